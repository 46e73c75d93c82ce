// One subcommand of the isthmus command line (`isthmus info`, `isthmus lenet` ...).
// Adding one is a class implementing this interface plus one line in Main.COMMANDS.
package dev.isthmus.examples;

import java.io.PrintStream;

/** A subcommand: its name, a one-line summary, the flags it accepts, and what it does. */
interface Command {
    /** The word on the command line. */
    String name();

    /** One line for {@code isthmus help}. */
    String summary();

    /** Everything the command accepts; the usage text is generated from it. Same instance every call. */
    Args.Spec spec();

    /**
     * Runs the command and returns the process exit code (0 on success). Throw
     * {@link Args.UsageError} for bad input (Main exits 2 with the usage), anything else for a
     * runtime failure (Main exits 1 with a one-line message).
     */
    int run(Args args, PrintStream out) throws Exception;

    /** The full help text: usage line, description, flags with defaults, examples. */
    default String usage() { return spec().usage("./isthmus " + name()); }
}
