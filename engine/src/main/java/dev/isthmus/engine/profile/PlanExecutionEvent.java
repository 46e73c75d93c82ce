package dev.isthmus.engine.profile;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A JDK Flight Recorder event for one execution of an op plan: which op, for which layer, which
 * pass, on which backend, at which shape, and how long it took (the event's duration). Emitted
 * only by a {@link ProfilingBackend}'s plans and only while a recording asks for
 * {@value #NAME}; with no recording, {@code shouldCommit()} is false and nothing is written.
 * No stack trace: the layer and pass say where it came from, and a trace per call would cost more
 * than LeNet's small ops.
 *
 * <pre>
 *   jfr print --events dev.isthmus.PlanExecution recording.jfr
 * </pre>
 */
@Name(PlanExecutionEvent.NAME)
@Label("Plan Execution")
@Category({"Isthmus", "Engine"})
@Description("One execution of an op plan: a forward or backward pass of one layer")
@StackTrace(false)
final class PlanExecutionEvent extends Event {
    static final String NAME = "dev.isthmus.PlanExecution";

    @Label("Op") @Description("The op: conv2d, pool2d, eltwise, linear, softmax_cross_entropy, optimizer, lrn, dropout, fill, axpy")
    String op;

    @Label("Layer") @Description("The model's layer the plan was compiled for (empty when none: the optimizer, zero_grad)")
    String layer;

    @Label("Pass") @Description("forward, forward_inference, backward_data, backward_weights, backward_activation, backward, step")
    String pass;

    @Label("Backend")
    String backend;

    @Label("Shape") @Description("The plan's geometry, as its spec prints it")
    String shape;

    @Label("Bytes") @DataAmount @Description("Bytes of the tensor arguments read and written")
    long bytes;

    @Label("Reorders") @Description("oneDNN reorders the call executed (0 on other backends)")
    long reorders;
}
