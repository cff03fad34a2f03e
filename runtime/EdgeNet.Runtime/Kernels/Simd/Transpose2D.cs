namespace EdgeNet.Kernels.Simd;

/// <summary>dst [cols, rows] = src [rows, cols]ᵀ in 8×8 blocks, so both sides stay in cache lines (NCHW ↔ NHWC per image).</summary>
public static unsafe class Transpose2D
{
    public static void Run(float* src, int rows, int cols, float* dst) => Run<float>(src, rows, cols, dst);
    public static void Run(sbyte* src, int rows, int cols, sbyte* dst) => Run<sbyte>(src, rows, cols, dst);

    static void Run<T>(T* src, int rows, int cols, T* dst) where T : unmanaged
    {
        const int B = 8;
        for (int r0 = 0; r0 < rows; r0 += B)
        {
            int r1 = Math.Min(rows, r0 + B);
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int c1 = Math.Min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                {
                    T* s = src + (long)r * cols;
                    for (int c = c0; c < c1; c++) dst[(long)c * rows + r] = s[c];
                }
            }
        }
    }
}
