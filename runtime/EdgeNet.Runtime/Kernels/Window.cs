using EdgeNet.Engine;
using EdgeNet.Format;
using EdgeNet.Kernels.Reference;

namespace EdgeNet.Kernels;

/// <summary>Reads and checks the sliding-window attributes shared by Conv and the pools.</summary>
internal static class Window
{
    public static ConvGeometry Geometry(Kernel k, Attributes a, int[] xShape, int oc, int[] kernel, int group, bool ceil)
    {
        var strides = a.Ints("strides", [1, 1]);
        var pads = a.Ints("pads", [0, 0, 0, 0]);
        var dil = a.Ints("dilations", [1, 1]);
        string where = $"node '{k.Node.Name}' ({k.Node.Op})";
        if (strides.Length != 2 || pads.Length != 4 || dil.Length != 2) throw new ModelFormatException($"{where}: strides/pads/dilations must have 2/4/2 values");
        if (kernel[0] < 1 || kernel[1] < 1 || kernel[0] > 1024 || kernel[1] > 1024) throw new ModelFormatException($"{where}: kernel {kernel[0]}x{kernel[1]} is out of range");
        foreach (var s in strides) if (s < 1 || s > 1024) throw new ModelFormatException($"{where}: stride {s} is out of range 1..1024");
        foreach (var d in dil) if (d < 1 || d > 1024) throw new ModelFormatException($"{where}: dilation {d} is out of range 1..1024");
        foreach (var p in pads) if (p < 0 || p > 4096) throw new ModelFormatException($"{where}: pad {p} is out of range 0..4096");
        if (group < 1 || xShape[1] % group != 0) throw new ModelFormatException($"{where}: group {group} does not divide {xShape[1]} channels");
        if (oc < 1) throw new ModelFormatException($"{where}: {oc} output channels");
        int C = xShape[1], H = xShape[2], W = xShape[3];
        int OH = Out(H, kernel[0], (int)strides[0], (int)pads[0], (int)pads[2], (int)dil[0], ceil);
        int OW = Out(W, kernel[1], (int)strides[1], (int)pads[1], (int)pads[3], (int)dil[1], ceil);
        if (OH < 1 || OW < 1) throw new ModelFormatException($"{where}: the window does not fit the {H}x{W} input");
        return new ConvGeometry(C, H, W, oc, OH, OW, kernel[0], kernel[1], (int)strides[0], (int)strides[1], (int)pads[0], (int)pads[1], (int)dil[0], (int)dil[1], group);
    }

    static int Out(int size, int k, int s, int p0, int p1, int d, bool ceil)
    {
        long span = (long)(k - 1) * d + 1, total = (long)size + p0 + p1 - span;
        if (total < 0) return 0;
        long o = (ceil ? (total + s - 1) / s : total / s) + 1;
        if (ceil && (o - 1) * s >= size + p0) o--;   // the last window must start inside the input or left pad
        return (int)o;
    }
}
