package dev.isthmus.engine.opencl;

/**
 * An OpenCL call returned a status other than {@code CL_SUCCESS}. The message names the C
 * function and the status by its C name ({@code CL_INVALID_VALUE}, ...), plus what was asked
 * (for a failed build: the compiler's log).
 */
public final class OpenClException extends RuntimeException {
    private final String function;
    private final int status;

    OpenClException(String function, int status, String detail) {
        super(function + " returned " + Cl.statusName(status) + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.function = function;
        this.status = status;
    }

    /** The C function that failed, e.g. {@code clBuildProgram}. */
    public String function() { return function; }

    /** The raw {@code cl_int} status. */
    public int status() { return status; }

    /** The status's C name, e.g. {@code CL_BUILD_PROGRAM_FAILURE}. */
    public String statusName() { return Cl.statusName(status); }
}
