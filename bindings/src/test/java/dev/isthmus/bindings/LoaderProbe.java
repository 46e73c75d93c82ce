// A main for the child JVMs of NativeLibrariesTest: loads oneDNN as a real program would (its
// system properties and environment) and prints how it was found, where, and its version.
package dev.isthmus.bindings;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.bindings.dnnl.dnnl_version_t;
import java.lang.foreign.MemorySegment;

public final class LoaderProbe {
    public static void main(String[] args) {
        NativeLibraries.NativeLibrary dnnl = NativeLibraries.dnnl();
        MemorySegment v = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.sizeof());
        System.out.println("source=" + dnnl.source());
        System.out.println("path=" + dnnl.path());
        System.out.println("version=" + dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v));
    }
}
