package dev.isthmus.engine;

/**
 * The native memory a plan holds beside the caller's tensors, for reports and tests: bytes held
 * once per plan, and bytes per execution context (what one call in flight uses: scratchpads and
 * the buffers of the reorders at the plan's boundary). A plan that concurrent calls share keeps
 * one context per call in flight ({@link #contexts()}).
 */
public interface MemoryFootprint {
    /** Bytes held by the plan itself whatever the number of calls (weights kept in the primitive's layout). */
    long planBytes();

    /** Bytes of one execution context: scratchpad plus reorder buffers. */
    long contextBytes();

    /** The scratchpad part of {@link #contextBytes()}: what the primitives themselves ask for. */
    long scratchpadBytes();

    /** Execution contexts created so far (the largest number of concurrent calls seen). */
    int contexts();
}
