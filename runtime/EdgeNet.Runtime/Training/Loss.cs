namespace EdgeNet.Training;

/// <summary>The training loss.</summary>
public enum LossKind
{
    /// <summary>Softmax cross-entropy against class indices.</summary>
    CrossEntropy,
    /// <summary>Mean squared error against one-hot targets.</summary>
    Mse,
}

/// <summary>Losses averaged over the batch, returning the loss and writing d(loss)/d(logits).</summary>
public static class Loss
{
    /// <summary>Softmax cross-entropy (PyTorch's CrossEntropyLoss, mean reduction, optional label smoothing).</summary>
    public static float CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<long> labels, int classes, Span<float> grad, float smoothing = 0)
    {
        int n = labels.Length;
        double total = 0;
        Span<float> p = classes <= 1024 ? stackalloc float[classes] : new float[classes];
        for (int i = 0; i < n; i++)
        {
            var z = logits.Slice(i * classes, classes);
            float max = float.NegativeInfinity;
            foreach (var v in z) max = Math.Max(max, v);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(z[c] - max);
            double logSum = Math.Log(sum) + max;
            int y = (int)labels[i];
            double li = 0;
            for (int c = 0; c < classes; c++)
            {
                double target = (c == y ? 1 - smoothing : 0) + smoothing / classes;
                double logp = z[c] - logSum;
                li -= target * logp;
                grad[i * classes + c] = (float)((Math.Exp(logp) - target) / n);
            }
            total += li;
        }
        return (float)(total / n);
    }

    /// <summary>Mean squared error over all elements (PyTorch's MSELoss, mean reduction).</summary>
    public static float Mse(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> grad)
    {
        double total = 0;
        for (int i = 0; i < output.Length; i++)
        {
            float d = output[i] - target[i];
            total += (double)d * d;
            grad[i] = 2 * d / output.Length;
        }
        return (float)(total / output.Length);
    }
}
