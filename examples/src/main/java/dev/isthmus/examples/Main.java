// The isthmus command line: `./isthmus <subcommand> [flags]` (the root script builds the
// project and runs this class with the JVM flags Isthmus needs and -Disthmus.root).
//
// Exit codes: 0 success; 1 a runtime failure, reported in one line (the stack trace with
// --verbose or environment ISTHMUS_DEBUG=1); 2 bad command-line input, reported in one line
// followed by the usage, on stderr.
package dev.isthmus.examples;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** Dispatches to the subcommands listed in {@link #COMMANDS}. */
public final class Main {
    private Main() {}

    /** Every subcommand, in the order {@code isthmus help} lists them. Add a new one here. */
    static final List<Command> COMMANDS = List.of(
            new LenetCommand(),
            new AlexnetCommand(),
            new ShapesCommand(),
            new ConvolveCommand(),
            new ServeCommand(),
            new InfoCommand(),
            new BenchCommand());

    public static void main(String[] argv) {
        boolean debug = "1".equals(System.getenv("ISTHMUS_DEBUG"));
        int code = run(argv, System.out, System.err, debug);
        System.out.flush();
        System.exit(code);
    }

    /** Runs one command line and returns its exit code; {@code debug} prints stack traces on failure. */
    static int run(String[] argv, PrintStream out, PrintStream err, boolean debug) {
        return run(COMMANDS, argv, out, err, debug);
    }

    /** {@link #run(String[], PrintStream, PrintStream, boolean)} over the given subcommands. */
    static int run(List<Command> commands, String[] argv, PrintStream out, PrintStream err, boolean debug) {
        List<String> words = Arrays.asList(argv);
        if (words.isEmpty() || isHelp(words.getFirst())) {
            if (words.size() <= 1) {
                out.print(usage(commands));
                return 0;
            }
            Command command = find(commands, words.get(1));
            if (command == null || words.size() > 2) {
                String message = command == null ? "unknown subcommand '" + words.get(1) + "'"
                        : "help takes one subcommand, got " + String.join(" ", words.subList(1, words.size()));
                err.println("isthmus: " + message);
                err.print(usage(commands));
                return 2;
            }
            out.print(command.usage());
            return 0;
        }
        String name = words.getFirst();
        Command command = find(commands, name);
        if (command == null) {
            err.println("isthmus: " + (name.startsWith("-") ? "unknown flag " + name : "unknown subcommand '" + name + "'"));
            err.print(usage(commands));
            return 2;
        }
        String prefix = "isthmus " + name + ": ";
        boolean verbose = debug || words.contains("--" + Args.VERBOSE);
        try {
            Args args = command.spec().parse(words.subList(1, words.size()));
            if (args.bool(Args.HELP)) {
                out.print(command.usage());
                return 0;
            }
            return command.run(args, out);
        } catch (Args.UsageError e) {
            err.println(prefix + Terminal.escape(e.getMessage()));
            err.print(command.usage());
            return 2;
        } catch (Exception | Error e) {
            out.flush();
            String message = Terminal.escape(e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getName() : e.getMessage());
            String first = message.lines().findFirst().orElse(message);
            boolean more = !first.equals(message) || e.getCause() != null;
            err.println(prefix + first + (more && !verbose ? " (--verbose for details)" : ""));
            if (verbose) e.printStackTrace(err);
            return 1;
        }
    }

    /** The top-level help: one line per subcommand. */
    static String usage(List<Command> commands) {
        StringBuilder s = new StringBuilder("""
                usage: ./isthmus <subcommand> [flags]

                Isthmus: a Java 25 engine for convolutional networks (oneDNN through FFM, the Vector API).

                Subcommands:
                """);
        int width = Math.max(4, commands.stream().mapToInt(c -> c.name().length()).max().orElse(0));
        for (Command c : commands) s.append("  ").append(pad(c.name(), width)).append("  ").append(c.summary()).append('\n');
        s.append("  ").append(pad("help", width)).append("  this help; 'help <subcommand>' (or '<subcommand> --help') for its flags\n");
        s.append("  ").append(pad("test", width)).append("  the whole test suite (mvn verify; run by the ./isthmus script itself)\n");
        s.append("\nEvery subcommand takes --verbose (stack traces on failure; also ISTHMUS_DEBUG=1) and -h, --help.\n");
        return s.toString();
    }

    private static Command find(List<Command> commands, String name) {
        return commands.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    private static boolean isHelp(String word) {
        return word.equals("help") || word.equals("--help") || word.equals("-h");
    }

    private static String pad(String s, int width) { return s + " ".repeat(width - s.length()); }
}
