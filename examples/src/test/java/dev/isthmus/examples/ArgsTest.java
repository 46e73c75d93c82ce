package dev.isthmus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.BackendKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArgsTest {
    private static Args.Spec spec() {
        return new Args.Spec()
                .description("Trains or evaluates.")
                .action("train", "trains")
                .action("eval", "evaluates a checkpoint")
                .flag("epochs", "N", "20", "training epochs")
                .flag("lr", "RATE", "0.01", "learning rate")
                .flag("backend", "NAME", "dnnl", "the backend")
                .flag("data", "DIR", null, "the data folder")
                .flag("checkpoint", "FILE", null, "the checkpoint to read").onlyFor("eval")
                .bool("quiet", "no progress")
                .example("lenet --epochs 2");
    }

    private static Args parse(String... words) { return spec().parse(List.of(words)); }

    private static String error(String... words) {
        return assertThrows(Args.UsageError.class, () -> parse(words)).getMessage();
    }

    @Test void defaultsWhenNothingIsGiven() {
        Args a = parse();
        assertEquals("train", a.action());
        assertEquals(20, a.positiveInt("epochs"));
        assertEquals(0.01f, a.floatInRange("lr", 0f, 10f));
        assertEquals(BackendKind.DNNL, a.choice("backend", BackendKind.values()));
        assertFalse(a.bool("quiet"));
        assertFalse(a.has("epochs"));
    }

    @Test void bothValueSyntaxesBooleansAndActions() {
        Args a = parse("eval", "--epochs", "3", "--lr=0.5", "--quiet", "--backend", "reference", "--checkpoint=c.st");
        assertEquals("eval", a.action());
        assertEquals(3, a.positiveInt("epochs"));
        assertEquals(0.5f, a.floatInRange("lr", 0f, 10f));
        assertTrue(a.bool("quiet"));
        assertTrue(a.has("epochs"));
        assertEquals(BackendKind.REFERENCE, a.choice("backend", BackendKind.values()));
        assertEquals(Path.of("c.st"), a.path("checkpoint"));
        assertFalse(parse("--quiet=false").bool("quiet"));
        assertEquals(-1, parse("--epochs", "-1").intInRange("epochs", -5, 5), "a negative number is a value, not a flag");
    }

    /** What every rank of `--ranks N` is started with: the same parsed command line. */
    @Test void wordsParseBackToTheSameArgs() {
        Args a = parse("eval", "--epochs", "3", "--lr=0.5", "--quiet", "--data", "a dir", "--checkpoint=c.st");
        assertEquals(List.of("eval", "--checkpoint=c.st", "--data=a dir", "--epochs=3", "--lr=0.5", "--quiet=true"), a.words());
        Args b = spec().parse(a.words());
        assertEquals(a.words(), b.words());
        assertEquals(3, b.positiveInt("epochs"));
        assertEquals(Path.of("a dir"), b.path("data"));
        assertEquals(List.of("train"), parse().words());
    }

    @Test void unknownAndMalformedFlagsAreNamed() {
        assertEquals("unknown flag --foo", error("--foo"));
        assertEquals("unknown flag --foo", error("--foo=1"));
        assertEquals("unknown flag -x", error("-x"));
        assertEquals("--epochs given twice", error("--epochs", "1", "--epochs=2"));
        assertEquals("--epochs: expected a value (N)", error("--epochs"));
        assertEquals("--epochs: expected a value (N)", error("--epochs", "--quiet"));
        assertEquals("--quiet: expected no value (or =true, =false), got 'yes'", error("--quiet=yes"));
        assertEquals("unknown subcommand 'fit'; expected one of train, eval", error("fit"));
        assertEquals("unexpected argument 'extra'", error("eval", "extra"));
        assertEquals("--checkpoint applies only to eval, not to train", error("--checkpoint", "c.st"));
    }

    @Test void typedGettersNameTheFlagTheExpectationAndTheValue() {
        assertEquals("--epochs: expected a positive integer, got 'abc'",
                assertThrows(Args.UsageError.class, () -> parse("--epochs", "abc").positiveInt("epochs")).getMessage());
        assertEquals("--epochs: expected a positive integer, got '0'",
                assertThrows(Args.UsageError.class, () -> parse("--epochs=0").positiveInt("epochs")).getMessage());
        assertEquals("--lr: expected a number in [0.0, 1.0], got '2'",
                assertThrows(Args.UsageError.class, () -> parse("--lr=2").floatInRange("lr", 0f, 1f)).getMessage());
        assertEquals("--lr: expected a number in [0.0, 1.0], got 'NaN'",
                assertThrows(Args.UsageError.class, () -> parse("--lr=NaN").floatInRange("lr", 0f, 1f)).getMessage());
        assertEquals("--backend: expected one of dnnl, simd, reference, opencl, cuda, got 'gpu'",
                assertThrows(Args.UsageError.class, () -> parse("--backend=gpu").choice("backend", BackendKind.values())).getMessage());
        assertEquals("--data is required (DIR)",
                assertThrows(Args.UsageError.class, () -> parse().existingFolder("data")).getMessage());
    }

    @Test void pathsMustExistWhenAsked(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("c.st"), "x");
        assertEquals(dir, parse("--data", dir.toString()).existingFolder("data"));
        assertEquals(file, parse("eval", "--checkpoint", file.toString()).existingFile("checkpoint"));
        String missing = dir.resolve("missing").toString();
        assertEquals("--data: expected an existing folder, got '" + missing + "' (it does not exist)",
                assertThrows(Args.UsageError.class, () -> parse("--data", missing).existingFolder("data")).getMessage());
        assertEquals("--checkpoint: expected an existing file, got '" + dir + "' (it is a folder)",
                assertThrows(Args.UsageError.class, () -> parse("eval", "--checkpoint", dir.toString()).existingFile("checkpoint")).getMessage());
    }

    @Test void helpAndDoubleDash() {
        assertTrue(parse("-h").bool(Args.HELP));
        assertTrue(parse("eval", "--help").bool(Args.HELP));
        assertEquals("unexpected argument '--quiet'", error("eval", "--", "--quiet"));
        assertEquals("unknown subcommand '--x'; expected one of train, eval", error("--", "--x"));
    }

    @Test void usageIsGeneratedFromTheDeclarations() {
        String usage = spec().usage("./isthmus lenet");
        assertTrue(usage.startsWith("usage: ./isthmus lenet [train|eval] [flags]\n"), usage);
        assertTrue(usage.contains("  train  trains (the default)\n"), usage);
        assertTrue(usage.contains("--epochs N         training epochs (default: 20)\n"), usage);
        assertTrue(usage.contains("--checkpoint FILE  the checkpoint to read [eval only]\n"), usage);
        assertTrue(usage.contains("-h, --help"), usage);
        assertTrue(usage.contains("  ./isthmus lenet --epochs 2\n"), usage);
    }

    @Test void declarationMistakesAreBugsNotUsageErrors() {
        assertThrows(IllegalStateException.class, () -> new Args.Spec().bool("quiet", "a").bool("quiet", "b"));
        assertThrows(IllegalStateException.class, () -> new Args.Spec().bool("Quiet", "a"));
        assertThrows(IllegalStateException.class, () -> parse().positiveInt("undeclared"));
        assertThrows(IllegalStateException.class, () -> parse().bool("epochs"));
    }
}
