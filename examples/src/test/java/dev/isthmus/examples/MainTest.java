package dev.isthmus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    /** The exit code and both streams of one command line. */
    record Result(int code, String out, String err) {}

    static Result run(List<Command> commands, boolean debug, String... argv) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = Main.run(commands, argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), debug);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result run(String... argv) { return run(Main.COMMANDS, false, argv); }

    /** A command that fails at run time, for the exit-1 path. */
    static final class Failing implements Command {
        private final Args.Spec spec = new Args.Spec().flag("times", "N", "1", "how often");
        @Override public String name() { return "fail"; }
        @Override public String summary() { return "fails"; }
        @Override public Args.Spec spec() { return spec; }
        @Override public int run(Args args, PrintStream out) {
            args.positiveInt("times");
            throw new IllegalStateException("the disk is full\nsecond line", new RuntimeException("cause"));
        }
    }

    @Test void helpListsEverySubcommandAndExitsZero() {
        for (String[] argv : new String[][] {{}, {"help"}, {"--help"}, {"-h"}}) {
            Result r = run(argv);
            assertEquals(0, r.code());
            assertEquals("", r.err());
            assertTrue(r.out().startsWith("usage: ./isthmus <subcommand> [flags]"), r.out());
            for (Command c : Main.COMMANDS) assertTrue(r.out().contains("  " + c.name() + " "), r.out());
        }
    }

    @Test void commandHelpPrintsItsUsage() {
        InfoCommand info = new InfoCommand();
        for (String[] argv : new String[][] {{"help", "info"}, {"info", "--help"}, {"info", "-h"}}) {
            Result r = run(argv);
            assertEquals(0, r.code());
            assertEquals(info.usage(), r.out());
        }
    }

    @Test void unknownSubcommandIsOneLineThenUsageOnStderrAndExitsTwo() {
        Result r = run("bogus");
        assertEquals(2, r.code());
        assertEquals("", r.out());
        assertEquals("isthmus: unknown subcommand 'bogus'", r.err().lines().findFirst().orElseThrow());
        assertTrue(r.err().contains("usage: ./isthmus <subcommand>"), r.err());
        assertEquals(2, run("help", "bogus").code());
        assertEquals("isthmus: unknown flag --bogus", run("--bogus").err().lines().findFirst().orElseThrow());
    }

    @Test void unknownFlagIsOneLineThenTheCommandsUsageAndExitsTwo() {
        Result r = run("info", "--foo");
        assertEquals(2, r.code());
        assertEquals("isthmus info: unknown flag --foo", r.err().lines().findFirst().orElseThrow());
        assertTrue(r.err().contains("usage: ./isthmus info [flags]"), r.err());
    }

    @Test void invalidValueIsAUsageError() {
        Result r = run(List.of(new Failing()), false, "fail", "--times", "abc");
        assertEquals(2, r.code());
        assertEquals("isthmus fail: --times: expected a positive integer, got 'abc'", r.err().lines().findFirst().orElseThrow());
    }

    @Test void runtimeFailureIsOneLineAndExitsOne() {
        Result r = run(List.of(new Failing()), false, "fail");
        assertEquals(1, r.code());
        assertEquals("isthmus fail: the disk is full (--verbose for details)\n", r.err());
        Result verbose = run(List.of(new Failing()), false, "fail", "--verbose");
        assertEquals(1, verbose.code());
        assertTrue(verbose.err().contains("java.lang.IllegalStateException: the disk is full"), verbose.err());
        Result debug = run(List.of(new Failing()), true, "fail");
        assertTrue(debug.err().contains("\tat "), debug.err());
    }

    @Test void infoRunsAndPrintsEveryKey() {
        Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        List<String> keys = r.out().lines().filter(l -> !l.startsWith(" ")).map(l -> l.substring(0, l.indexOf(':'))).toList();
        for (String key : List.of("Java", "Java home", "Vector API", "SIMD kernels", "Processors", "CPU", "oneDNN",
                "oneDNN ISA", "oneDNN library", "OpenMP threads", "Isthmus", "Backend dnnl", "Backend simd",
                "Backend reference", "Backend opencl", "Backend cuda")) {
            assertTrue(keys.contains(key), key + " missing from:\n" + r.out());
        }
        String dnnl = r.out().lines().filter(l -> l.startsWith("oneDNN: ")).findFirst().orElseThrow();
        assertTrue(dnnl.contains("3.13"), dnnl);
        assertFalse(r.out().contains("oneDNN ISA:         unknown"), r.out());
        assertTrue(r.out().contains("Backend reference: available"), r.out());
        int column = r.out().lines().findFirst().orElseThrow().indexOf("25");
        assertTrue(r.out().lines().allMatch(l -> l.length() > column && l.charAt(column - 1) == ' '), "values aligned:\n" + r.out());
    }

    @Test void isaAndRuntimeNamesComeFromTheBindingsConstants() {
        assertEquals("OMP", InfoCommand.constantNames("DNNL_RUNTIME_", 2));
        assertEquals("avx512_core_amx = avx10_1_512_amx", InfoCommand.constantNames("dnnl_cpu_isa_", 4079));
        assertEquals("avx2", InfoCommand.constantNames("dnnl_cpu_isa_", 7));
        assertTrue(InfoCommand.constantNames("dnnl_cpu_isa_", 123456).startsWith("unknown"));
    }
}
