package dev.isthmus.engine.cuda;

/**
 * A CUDA driver API call returned a {@code CUresult} other than {@code CUDA_SUCCESS}. The message
 * names the C function and the status by its C name ({@code CUDA_ERROR_OUT_OF_MEMORY}, ...), plus
 * what was asked (for a PTX that does not load: the JIT compiler's log).
 */
public final class CudaException extends RuntimeException {
    private final String function;
    private final int status;
    private final String statusName;
    private final String detail;

    CudaException(String function, int status, String statusName, String detail) {
        super(function + " returned " + statusName + " (" + status + ")" + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.function = function;
        this.status = status;
        this.statusName = statusName;
        this.detail = detail == null ? "" : detail;
    }

    /** The C function that failed, e.g. {@code cuModuleLoadDataEx}. */
    public String function() { return function; }

    /** The raw {@code CUresult}. */
    public int status() { return status; }

    /** The status's C name as the driver gives it ({@code cuGetErrorName}), e.g. {@code CUDA_ERROR_INVALID_PTX}. */
    public String statusName() { return statusName; }

    /** What was asked, as the message gives it after the status (may be empty). */
    public String detail() { return detail; }
}
