package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.DNNL_ARG_FROM;
import static dev.isthmus.bindings.dnnl.dnnl_h.DNNL_ARG_SCRATCHPAD;
import static dev.isthmus.bindings.dnnl.dnnl_h.DNNL_ARG_TO;
import static dev.isthmus.bindings.dnnl.dnnl_h.DNNL_MEMORY_NONE;
import static dev.isthmus.bindings.dnnl.dnnl_h.dnnl_memory_desc_get_size;
import static dev.isthmus.bindings.dnnl.dnnl_h.dnnl_query_scratchpad_md;
import static dev.isthmus.bindings.dnnl.dnnl_h.dnnl_primitive_desc_query_md;
import static dev.isthmus.bindings.dnnl.dnnl_h.dnnl_reorder_primitive_desc_create;

import dev.isthmus.bindings.dnnl.dnnl_exec_arg_t;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One oneDNN primitive of a plan and how its arguments bind, built once per plan.
 *
 * <p>Each argument is a user tensor in a boundary layout ({@link #input}, {@link #output}: plain
 * row-major, or the layout the previous plan wrote when layouts travel), or an opaque buffer passed
 * as it is ({@link #opaque}: max pooling's workspace). Where the layout the primitive chose
 * ({@code query_md} of the argument) equals the boundary one, the user's memory goes straight in;
 * where it differs, a reorder primitive converts into (inputs) or out of (outputs) a buffer in the
 * primitive's layout, unless a call's tensor is already in the primitive's layout
 * ({@link Bound#set(int, Tensor, String)} then skips that reorder). A tensor in any other layout is
 * an exception naming both. Reorders and the primitive share one attribute in
 * user scratchpad mode.
 *
 * <p>{@link Bound} is the per-context instance: the {@code dnnl_memory} objects (created over
 * nothing, pointed at each call's tensors with {@code dnnl_memory_set_data_handle}), the reorder
 * buffers and the {@code dnnl_exec_arg_t} arrays, filled once. Per call only data handles change.
 */
final class DnnlCall {
    private enum Kind { INPUT, OUTPUT, OPAQUE }

    /**
     * One argument: {@code primitiveMd} is what the primitive wants; {@code userMd} is the plain
     * layout of the user's tensor, equal to {@code primitiveMd} unless {@code reorder} is non-null.
     */
    private record Arg(int id, Kind kind, Dnnl.MemoryDesc primitiveMd, Dnnl.MemoryDesc userMd,
                       Dnnl.Primitive reorder, Dnnl.MemoryDesc reorderScratchpadMd,
                       Layout primitiveLayout, Layout userLayout) {}

    private final DnnlOpPlan plan;
    private final String name;
    private final Dnnl.PrimitiveDesc pd;
    private final Dnnl.Primitive primitive;
    private final Dnnl.MemoryDesc scratchpadMd;
    private final List<Arg> args = new ArrayList<>();
    private long scratchpadBytes;

    private final int index;   // position in the plan's calls and in each context

    DnnlCall(DnnlOpPlan plan, int index, String name, Dnnl.PrimitiveDesc pd) {
        this.plan = plan;
        this.index = index;
        this.name = name;
        this.pd = pd;
        this.primitive = plan.own(new Dnnl.Primitive(pd, name + " " + plan.name()));
        this.scratchpadMd = scratchpadMdOf(pd);
        this.scratchpadBytes = scratchpadMd == null ? 0 : scratchpadMd.byteSize();
    }

    /** This call's position in its plan's {@code Context}. */
    int index() { return index; }

    /** "forward", "backward-data", ...: what this call runs. */
    String name() { return name; }

    /** A copy of the scratchpad descriptor of {@code pd}; null when it needs none. */
    private Dnnl.MemoryDesc scratchpadMdOf(Dnnl.PrimitiveDesc pd) {
        MemorySegment md = dnnl_primitive_desc_query_md(pd.handle(), dnnl_query_scratchpad_md(), 0);
        if (md.equals(MemorySegment.NULL) || dnnl_memory_desc_get_size(md) == 0) return null;
        return plan.own(Dnnl.MemoryDesc.copyOf(md));
    }

    /** Adds a user tensor the primitive reads; returns its index for {@link Bound#set}. */
    int input(int arg, Dnnl.MemoryDesc plain) { return add(arg, Kind.INPUT, plain); }

    /** Adds a user tensor the primitive writes; returns its index for {@link Bound#set}. */
    int output(int arg, Dnnl.MemoryDesc plain) { return add(arg, Kind.OUTPUT, plain); }

    /** Adds a buffer in the primitive's own layout (a workspace), never reordered. */
    int opaque(int arg) { return add(arg, Kind.OPAQUE, null); }

    private int add(int arg, Kind kind, Dnnl.MemoryDesc plain) {
        Dnnl.MemoryDesc chosen = plan.own(pd.argMd(arg));
        Dnnl.Primitive reorder = null;
        Dnnl.MemoryDesc reorderScratchpad = null;
        if (kind != Kind.OPAQUE && !chosen.sameAs(plain)) {
            Dnnl.MemoryDesc from = kind == Kind.INPUT ? plain : chosen, to = kind == Kind.INPUT ? chosen : plain;
            String what = "reorder " + from.layout() + " -> " + to.layout() + " for " + name + " " + plan.name();
            Dnnl.PrimitiveDesc rpd = plan.own(Dnnl.PrimitiveDesc.create("dnnl_reorder_primitive_desc_create", what,
                    s -> dnnl_reorder_primitive_desc_create(s, from.handle(), plan.engine().handle(),
                            to.handle(), plan.engine().handle(), plan.attr().handle())));
            reorder = plan.own(new Dnnl.Primitive(rpd, what));
            reorderScratchpad = scratchpadMdOf(rpd);
            if (reorderScratchpad != null) scratchpadBytes = Math.max(scratchpadBytes, reorderScratchpad.byteSize());
        }
        Dnnl.MemoryDesc user = kind == Kind.OPAQUE || reorder == null ? chosen : plain;
        Layout primitiveLayout = kind == Kind.OPAQUE ? Layout.PLAIN : plan.layoutOf(chosen);
        Layout userLayout = reorder == null ? primitiveLayout : plan.layoutOf(plain);
        args.add(new Arg(arg, kind, chosen, user, reorder, reorderScratchpad, primitiveLayout, userLayout));
        return args.size() - 1;
    }

    /** The layout the primitive works in for argument {@code index}: a tensor in it goes in without a reorder. */
    Layout layout(int index) { return args.get(index).primitiveLayout(); }

    /** The layout of argument {@code index} at the plan's boundary: what a caller's tensor may also be in (behind a reorder). */
    Layout userLayout(int index) { return args.get(index).userLayout(); }

    /** Bytes of the primitive's layout for argument {@code index} (opaque buffers: what the caller must pass). */
    long byteSize(int index) { return args.get(index).primitiveMd().byteSize(); }

    /** Reorders one execution runs. */
    int reorderCount() {
        int n = 0;
        for (Arg a : args) if (a.reorder() != null) n++;
        return n;
    }

    /** Bytes of the buffers in the primitive's layout that one execution context holds for this call's reorders. */
    long bufferBytes() {
        long n = 0;
        for (Arg a : args) if (a.reorder() != null) n += Math.max(1, a.primitiveMd().byteSize());
        return n;
    }

    /** The largest scratchpad the primitive or one of its reorders needs. */
    long scratchpadBytes() { return scratchpadBytes; }

    /**
     * "forward brg_conv_fwd:avx512_core src abcd->aBcd16b weights ..." for logs and tests:
     * the implementation and, per argument, the user layout and the primitive's.
     */
    String describe(String... argNames) {
        StringBuilder s = new StringBuilder(name).append(' ').append(pd.implementation());
        for (int i = 0; i < args.size(); i++) {
            Arg a = args.get(i);
            s.append(' ').append(i < argNames.length ? argNames[i] : "arg" + a.id()).append(' ');
            if (a.kind() == Kind.OPAQUE) s.append(a.primitiveMd().layout()).append(" (opaque)");
            else if (a.reorder() == null) s.append(a.primitiveMd().layout());
            else if (a.kind() == Kind.INPUT) s.append(a.userMd().layout()).append("->").append(a.primitiveMd().layout());
            else s.append(a.primitiveMd().layout()).append("->").append(a.userMd().layout());
        }
        return s.toString();
    }

    /** This call inside one execution context; used by one thread at a time. */
    Bound bind(Arena arena, MemorySegment scratchpad, List<Dnnl.Handle> owned) {
        return new Bound(arena, scratchpad, owned);
    }

    final class Bound {
        private final Dnnl.Memory[] user;          // per argument: the memory pointed at the caller's tensor
        private final Dnnl.Memory[] direct;        // per argument: the memory the primitive reads (user's, or a reorder buffer's)
        private final MemorySegment[] buffer;      // per argument: the reorder buffer; null without a reorder
        private final int[] reorderSlot;           // per argument: its reorder in skip[] (inputs, then outputs); -1: none
        private final boolean[] skip;              // per reorder: this call's tensor is already in the primitive's layout
        private final MemorySegment execArgs;      // dnnl_exec_arg_t[nargs] of the primitive
        private final int nargs;
        private final Dnnl.Primitive[] inReorders, outReorders;
        private final MemorySegment[] inReorderArgs, outReorderArgs;
        private final int[] inReorderNargs, outReorderNargs;

        private Bound(Arena arena, MemorySegment scratchpad, List<Dnnl.Handle> owned) {
            Dnnl.Engine engine = plan.engine();
            int n = args.size();
            boolean hasScratchpad = scratchpadMd != null;
            nargs = n + (hasScratchpad ? 1 : 0);
            execArgs = dnnl_exec_arg_t.allocateArray(nargs, arena);
            user = new Dnnl.Memory[n];
            direct = new Dnnl.Memory[n];
            buffer = new MemorySegment[n];
            reorderSlot = new int[n];
            java.util.Arrays.fill(reorderSlot, -1);
            List<Integer> ins = new ArrayList<>(), outs = new ArrayList<>();
            List<MemorySegment> inArgs = new ArrayList<>(), outArgs = new ArrayList<>();
            List<Integer> inN = new ArrayList<>(), outN = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Arg a = args.get(i);
                user[i] = own(owned, new Dnnl.Memory(a.userMd(), engine, DNNL_MEMORY_NONE()));
                direct[i] = user[i];
                if (a.reorder() != null) {
                    // The primitive works on a buffer of this context in its own layout.
                    buffer[i] = arena.allocate(Math.max(1, a.primitiveMd().byteSize()), DnnlOpPlan.ALIGNMENT);
                    direct[i] = own(owned, new Dnnl.Memory(a.primitiveMd(), engine, buffer[i]));
                    boolean reorderScratch = a.reorderScratchpadMd() != null;
                    MemorySegment r = dnnl_exec_arg_t.allocateArray(reorderScratch ? 3 : 2, arena);
                    boolean in = a.kind() == Kind.INPUT;
                    setArg(r, 0, DNNL_ARG_FROM(), in ? user[i] : direct[i]);
                    setArg(r, 1, DNNL_ARG_TO(), in ? direct[i] : user[i]);
                    if (reorderScratch) {
                        setArg(r, 2, DNNL_ARG_SCRATCHPAD(), own(owned, new Dnnl.Memory(a.reorderScratchpadMd(), engine, scratchpad)));
                    }
                    (in ? ins : outs).add(i);
                    (in ? inArgs : outArgs).add(r);
                    (in ? inN : outN).add(reorderScratch ? 3 : 2);
                }
                setArg(execArgs, i, a.id(), direct[i]);
            }
            if (hasScratchpad) {
                setArg(execArgs, n, DNNL_ARG_SCRATCHPAD(), own(owned, new Dnnl.Memory(scratchpadMd, engine, scratchpad)));
            }
            for (int k = 0; k < ins.size(); k++) reorderSlot[ins.get(k)] = k;
            for (int k = 0; k < outs.size(); k++) reorderSlot[outs.get(k)] = ins.size() + k;
            skip = new boolean[ins.size() + outs.size()];
            inReorders = ins.stream().map(i -> args.get(i).reorder()).toArray(Dnnl.Primitive[]::new);
            outReorders = outs.stream().map(i -> args.get(i).reorder()).toArray(Dnnl.Primitive[]::new);
            inReorderArgs = inArgs.toArray(MemorySegment[]::new);
            outReorderArgs = outArgs.toArray(MemorySegment[]::new);
            inReorderNargs = inN.stream().mapToInt(Integer::intValue).toArray();
            outReorderNargs = outN.stream().mapToInt(Integer::intValue).toArray();
        }

        /** Points argument {@code index} at raw memory in its boundary layout (plain unless created otherwise). */
        void set(int index, MemorySegment data) {
            user[index].setData(data);
            if (reorderSlot[index] >= 0) {
                direct[index].setData(buffer[index]);
                skip[reorderSlot[index]] = false;
            }
        }

        /**
         * Points argument {@code index} at {@code t}: straight in when {@code t} is in the primitive's layout,
         * through this context's reorder when it is in the boundary layout; anything else is a mistake,
         * reported with both layouts. {@code what} names the argument.
         */
        void set(int index, Tensor t, String what) {
            Arg a = args.get(index);
            Layout l = t.layout();
            if (a.kind() == Kind.OPAQUE) {
                user[index].setData(t.segment());
            } else if (same(l, a.primitiveLayout())) {
                direct[index].setData(t.segment());
                if (reorderSlot[index] >= 0) skip[reorderSlot[index]] = true;
            } else if (same(l, a.userLayout())) {
                set(index, t.segment());
            } else {
                throw new IllegalArgumentException(plan.name() + " " + name + ": " + what + " " + t.shape() + " is in layout "
                        + l.name() + ", expected " + a.primitiveLayout().name()
                        + (a.reorder() == null ? "" : " or " + a.userLayout().name()));
            }
        }

        /** Reorders in, executes, reorders out, waits; returns the number of reorders run. */
        int run(Dnnl.Stream stream) {
            int n = 0;
            for (int i = 0; i < inReorders.length; i++) {
                if (skip[i]) continue;
                inReorders[i].execute(stream, inReorderNargs[i], inReorderArgs[i]);
                n++;
            }
            primitive.execute(stream, nargs, execArgs);
            for (int i = 0; i < outReorders.length; i++) {
                if (skip[inReorders.length + i]) continue;
                outReorders[i].execute(stream, outReorderNargs[i], outReorderArgs[i]);
                n++;
            }
            stream.await();
            return n;
        }
    }

    /** Identity first: the backend interns its layouts, so the equals below runs only for plain ones or strangers. */
    private static boolean same(Layout a, Layout b) { return a == b || a.equals(b); }

    private static Dnnl.Memory own(List<Dnnl.Handle> owned, Dnnl.Memory m) {
        owned.add(m);
        return m;
    }

    private static void setArg(MemorySegment array, int index, int arg, Dnnl.Memory memory) {
        MemorySegment entry = dnnl_exec_arg_t.asSlice(array, index);
        dnnl_exec_arg_t.arg(entry, arg);
        dnnl_exec_arg_t.memory(entry, memory.handle());
    }
}
