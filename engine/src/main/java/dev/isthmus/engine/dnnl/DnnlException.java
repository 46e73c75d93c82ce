package dev.isthmus.engine.dnnl;

/**
 * A oneDNN call returned a status other than {@code dnnl_success}. The message names the
 * C function and the status by its C name ({@code dnnl_unimplemented}, ...), plus what was asked.
 */
public final class DnnlException extends RuntimeException {
    private final String function;
    private final int status;

    DnnlException(String function, int status, String detail) {
        super(function + " returned " + Dnnl.statusName(status) + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.function = function;
        this.status = status;
    }

    /** The C function that failed, e.g. {@code dnnl_convolution_forward_primitive_desc_create}. */
    public String function() { return function; }

    /** The raw {@code dnnl_status_t} value. */
    public int status() { return status; }

    /** The status's C name, e.g. {@code dnnl_invalid_arguments}. */
    public String statusName() { return Dnnl.statusName(status); }
}
