package dev.isthmus.engine;

/**
 * The backends a caller can pick, explicitly: there is no silent fallback. A backend that
 * cannot run here fails at construction with a message saying why.
 */
public enum BackendKind {
    /** oneDNN on the CPU through FFM: the default. */
    DNNL,
    /** Pure Java with the Vector API: no native code. */
    SIMD,
    /** Plain scalar loops: the specification every other backend is tested against. Slow. */
    REFERENCE,
    /** Isthmus's OpenCL C kernels. */
    OPENCL,
    /** Isthmus's CUDA kernels through the driver API. */
    CUDA;

    /** The lower-case name used on command lines ({@code --backend dnnl}). */
    public String cliName() { return name().toLowerCase(java.util.Locale.ROOT); }

    /** Parses a command-line name; the error lists the valid names. */
    public static BackendKind parse(String name) {
        for (BackendKind k : values()) if (k.cliName().equals(name)) return k;
        throw new IllegalArgumentException("unknown backend '" + name + "'; expected one of "
                + java.util.Arrays.stream(values()).map(BackendKind::cliName).toList());
    }
}
