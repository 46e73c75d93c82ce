// A small, strict command-line parser for Isthmus's subcommands.
//
// A command declares everything it accepts in a Spec: flags with a value (`--epochs N`, also
// `--epochs=N`), boolean flags (`--verbose`), and optional actions, the positional
// sub-subcommands (`lenet eval`). The usage text is generated from those declarations, so it
// cannot drift from what is parsed. Anything undeclared is an error, never ignored: unknown
// flags, a flag given twice, a value missing, a stray positional word. Values are checked when
// a typed getter reads them, and every message names the flag, what was expected and what came.
// It is not a general-purpose library: no short options beyond -h, no repeated flags.
package dev.isthmus.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The parsed command line of one subcommand; create it with {@link Spec#parse}. */
final class Args {

    /** Bad command-line input: Main prints the message and the usage to stderr and exits 2. */
    static final class UsageError extends IllegalArgumentException {
        UsageError(String message) { super(message); }
    }

    /** Flags every command accepts; Main acts on them, commands need not declare them. */
    static final String HELP = "help", VERBOSE = "verbose";

    /**
     * One declared flag. {@code metavar} is null for a boolean flag; {@code defaultValue} is null
     * when the flag has no default; {@code actions} is empty when it applies to every action.
     */
    record Flag(String name, String metavar, String defaultValue, String help, Set<String> actions) {
        boolean isBoolean() { return metavar == null; }

        String left() { return (name.equals(HELP) ? "-h, " : "") + "--" + name + (isBoolean() ? "" : " " + metavar); }
    }

    /** One positional sub-subcommand, such as {@code eval} in {@code isthmus lenet eval}. */
    record Action(String name, String help) {}

    /** What a command accepts; declared once, in the command's constructor. */
    static final class Spec {
        private final Map<String, Flag> flags = new LinkedHashMap<>();
        private final List<Action> actions = new ArrayList<>();
        private final List<String> examples = new ArrayList<>();
        private String description = "";

        Spec() {
            add(new Flag(VERBOSE, null, null, "on failure, print the stack trace (also: environment ISTHMUS_DEBUG=1)", Set.of()));
            add(new Flag(HELP, null, null, "print this help and exit", Set.of()));
        }

        /** A paragraph shown under the usage line. */
        Spec description(String text) { description = text; return this; }

        /** A flag with a value; {@code defaultValue} null means none (the getter then requires it). */
        Spec flag(String name, String metavar, String defaultValue, String help) {
            require(metavar != null && !metavar.isBlank(), "flag --" + name + ": a value flag needs a metavar");
            return add(new Flag(name, metavar, defaultValue, help, Set.of()));
        }

        /** A boolean flag, false unless given. */
        Spec bool(String name, String help) { return add(new Flag(name, null, null, help, Set.of())); }

        /** Restricts the flag declared last to these actions. */
        Spec onlyFor(String... actionNames) {
            Flag last = flags.values().stream().reduce((a, b) -> b).orElseThrow();
            for (String a : actionNames) {
                require(action(a) != null, "onlyFor: '" + a + "' is not a declared action");
            }
            flags.put(last.name(), new Flag(last.name(), last.metavar(), last.defaultValue(), last.help(), Set.of(actionNames)));
            return this;
        }

        /** A positional sub-subcommand; the first declared is the default when none is given. */
        Spec action(String name, String help) {
            require(action(name) == null, "action '" + name + "' declared twice");
            actions.add(new Action(name, help));
            return this;
        }

        /** An example command line for the usage text, without the leading {@code ./isthmus}. */
        Spec example(String line) { examples.add(line); return this; }

        List<Flag> flags() { return List.copyOf(flags.values()); }

        List<Action> actions() { return List.copyOf(actions); }

        private Spec add(Flag flag) {
            require(flag.name().matches("[a-z][a-z0-9-]*"), "flag name '" + flag.name() + "': expected lower-case words joined by '-'");
            require(!flags.containsKey(flag.name()), "flag --" + flag.name() + " declared twice");
            flags.put(flag.name(), flag);
            return this;
        }

        private Action action(String name) {
            return actions.stream().filter(a -> a.name().equals(name)).findFirst().orElse(null);
        }

        /** Parses the words after the subcommand's name; throws {@link UsageError} on anything undeclared. */
        Args parse(List<String> words) {
            Map<String, String> given = new LinkedHashMap<>();
            List<String> positionals = new ArrayList<>();
            boolean flagsEnded = false;
            for (int i = 0; i < words.size(); i++) {
                String word = words.get(i);
                if (flagsEnded || !word.startsWith("-") || word.equals("-")) {
                    positionals.add(word);
                    continue;
                }
                if (word.equals("--")) { flagsEnded = true; continue; }
                if (word.equals("-h")) word = "--" + HELP;
                if (!word.startsWith("--")) throw new UsageError("unknown flag " + word);
                int eq = word.indexOf('=');
                String name = word.substring(2, eq < 0 ? word.length() : eq);
                Flag flag = flags.get(name);
                if (flag == null) throw new UsageError("unknown flag --" + name);
                if (given.containsKey(name)) throw new UsageError("--" + name + " given twice");
                String value;
                if (flag.isBoolean()) {
                    value = eq < 0 ? "true" : word.substring(eq + 1);
                    if (!value.equals("true") && !value.equals("false")) {
                        throw new UsageError("--" + name + ": expected no value (or =true, =false), got '" + value + "'");
                    }
                } else if (eq >= 0) {
                    value = word.substring(eq + 1);
                } else if (i + 1 < words.size() && !words.get(i + 1).startsWith("--")) {
                    value = words.get(++i);
                } else {
                    throw new UsageError("--" + name + ": expected a value (" + flag.metavar() + ")");
                }
                given.put(name, value);
            }
            String action = null;
            if (!actions.isEmpty()) {
                if (positionals.isEmpty()) {
                    action = actions.getFirst().name();
                } else {
                    action = positionals.removeFirst();
                    if (action(action) == null) {
                        throw new UsageError("unknown subcommand '" + action + "'; expected one of " + names(actions.stream().map(Action::name).toList()));
                    }
                }
            }
            if (!positionals.isEmpty() && !given.containsKey(HELP)) {
                throw new UsageError("unexpected argument '" + positionals.getFirst() + "'");
            }
            for (String name : given.keySet()) {
                Set<String> only = flags.get(name).actions();
                if (!only.isEmpty() && !only.contains(action)) {
                    throw new UsageError("--" + name + " applies only to " + names(List.copyOf(only)) + ", not to " + action);
                }
            }
            return new Args(this, action, given);
        }

        /** The usage text: the usage line, description, actions, flags with defaults, examples. */
        String usage(String program) {
            StringBuilder s = new StringBuilder("usage: ").append(program);
            if (!actions.isEmpty()) s.append(" [").append(actions.stream().map(Action::name).collect(Collectors.joining("|"))).append("]");
            s.append(" [flags]\n");
            if (!description.isEmpty()) s.append('\n').append(description).append('\n');
            if (!actions.isEmpty()) {
                s.append("\nSubcommands:\n");
                int width = actions.stream().mapToInt(a -> a.name().length()).max().orElse(0);
                for (Action a : actions) {
                    s.append("  ").append(pad(a.name(), width)).append("  ").append(a.help())
                            .append(a == actions.getFirst() ? " (the default)" : "").append('\n');
                }
            }
            s.append("\nFlags:\n");
            int width = flags.values().stream().mapToInt(f -> f.left().length()).max().orElse(0);
            for (Flag f : flags.values()) {
                s.append("  ").append(pad(f.left(), width)).append("  ").append(f.help());
                if (f.defaultValue() != null) s.append(" (default: ").append(f.defaultValue()).append(')');
                if (!f.actions().isEmpty()) s.append(" [").append(String.join(", ", f.actions())).append(" only]");
                s.append('\n');
            }
            if (!examples.isEmpty()) {
                s.append("\nExamples:\n");
                for (String e : examples) s.append("  ./isthmus ").append(e).append('\n');
            }
            return s.toString();
        }
    }

    private final Spec spec;
    private final String action;
    private final Map<String, String> given;

    private Args(Spec spec, String action, Map<String, String> given) {
        this.spec = spec;
        this.action = action;
        this.given = Map.copyOf(given);
    }

    /**
     * The command line that parses to these Args ({@code train --epochs=5 --distort=true}), for
     * starting the same command again (on every rank of {@code mpirun}).
     */
    List<String> words() {
        List<String> words = new ArrayList<>();
        if (action != null) words.add(action);
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(given).entrySet()) words.add("--" + e.getKey() + "=" + e.getValue());
        return words;
    }

    /** The action given, or the first declared one; null when the command declares none. */
    String action() { return action; }

    /** Whether the flag was given on the command line (not merely defaulted). */
    boolean has(String name) { return given.containsKey(declared(name).name()); }

    /** The raw value: the one given, else the default; a flag with neither is required. */
    String string(String name) {
        Flag flag = declared(name);
        String value = given.getOrDefault(name, flag.defaultValue());
        if (value == null) throw new UsageError("--" + name + " is required (" + flag.metavar() + ")");
        return value;
    }

    boolean bool(String name) {
        Flag flag = declared(name);
        require(flag.isBoolean(), "--" + name + " is not a boolean flag");
        return "true".equals(given.get(name));
    }

    int positiveInt(String name) { return intInRange(name, 1, Integer.MAX_VALUE); }

    /** An integer in [min, max]. */
    int intInRange(String name, int min, int max) {
        String value = string(name);
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // reported below, with the expected range
        }
        throw new UsageError("--" + name + ": expected " + describeRange(min, max) + ", got '" + value + "'");
    }

    /** A finite float in [min, max]. */
    float floatInRange(String name, float min, float max) {
        String value = string(name);
        try {
            float x = Float.parseFloat(value.strip());
            if (Float.isFinite(x) && x >= min && x <= max) return x;
        } catch (NumberFormatException e) {
            // reported below, with the expected range
        }
        throw new UsageError("--" + name + ": expected a number in [" + min + ", " + max + "], got '" + value + "'");
    }

    /** One of the given constants, named in lower case with '-' for '_' ({@code --backend dnnl}). */
    <E extends Enum<E>> E choice(String name, E[] values) {
        String value = string(name);
        for (E e : values) {
            if (cliName(e).equals(value)) return e;
        }
        throw new UsageError("--" + name + ": expected one of " + names(Arrays.stream(values).map(Args::cliName).toList()) + ", got '" + value + "'");
    }

    /** A path to a regular file that exists and can be read. */
    Path existingFile(String name) {
        Path path = path(name);
        if (!Files.isRegularFile(path)) throw new UsageError("--" + name + ": expected an existing file, got '" + path + "' (" + whyNot(path) + ")");
        if (!Files.isReadable(path)) throw new UsageError("--" + name + ": cannot read '" + path + "'");
        return path;
    }

    /** A path to a folder that exists. */
    Path existingFolder(String name) {
        Path path = path(name);
        if (!Files.isDirectory(path)) throw new UsageError("--" + name + ": expected an existing folder, got '" + path + "' (" + whyNot(path) + ")");
        return path;
    }

    /** A path that need not exist yet (an output). */
    Path path(String name) {
        String value = string(name);
        if (value.isBlank()) throw new UsageError("--" + name + ": expected a path, got ''");
        try {
            return Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw new UsageError("--" + name + ": not a valid path: '" + value + "' (" + e.getReason() + ")");
        }
    }

    static String cliName(Enum<?> e) { return e.name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    private Flag declared(String name) {
        Flag flag = spec.flags.get(name);
        require(flag != null, "--" + name + " is not declared by this command");
        return flag;
    }

    private static String whyNot(Path path) {
        if (!Files.exists(path)) return "it does not exist";
        return Files.isDirectory(path) ? "it is a folder" : "it is not a regular file";
    }

    private static String describeRange(int min, int max) {
        if (min == 1 && max == Integer.MAX_VALUE) return "a positive integer";
        if (min == 0 && max == Integer.MAX_VALUE) return "a non-negative integer";
        return "an integer in [" + min + ", " + max + "]";
    }

    private static String names(List<String> names) { return String.join(", ", names); }

    private static String pad(String s, int width) { return s + " ".repeat(width - s.length()); }

    /** For mistakes in a command's declarations or getter calls: bugs, not user input. */
    private static void require(boolean condition, String message) {
        if (!condition) throw new IllegalStateException(message);
    }
}
