using System.Numerics.Tensors;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Ground truth for multi-vector search: per query, the top-k images by exact MaxSim (max over an
/// image's float vectors of the inner product), images being runs of <c>vectorsPerImage</c>
/// consecutive rows. With one vector per image it is plain exact top-k. Blocks of images stay in cache
/// while every query of a worker meets them, so each worker reads the base once.
/// </summary>
public static class ExactMaxSim
{
    private const int ImagesPerBlock = 256;

    /// <summary>Returns queryCount × k image numbers, best first (equal scores: lower image first).</summary>
    public static int[] Compute(float[] baseVectors, int imageCount, int vectorsPerImage, float[] queries, int queryCount, int dimension, int k, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(baseVectors);
        ArgumentNullException.ThrowIfNull(queries);
        if (k <= 0 || k > imageCount) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1..{imageCount}.");
        if (baseVectors.Length < (long)imageCount * vectorsPerImage * dimension || queries.Length < (long)queryCount * dimension)
        {
            throw new ArgumentException("Vector buffers are shorter than their counts and dimension say.");
        }

        int[] result = new int[queryCount * k];
        int workers = Math.Max(1, Math.Min(queryCount, maxThreads > 0 ? maxThreads : Environment.ProcessorCount));
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            int firstQuery = (int)((long)queryCount * worker / workers);
            int n = (int)((long)queryCount * (worker + 1) / workers) - firstQuery;
            float[] bestScores = new float[n * k];
            bestScores.AsSpan().Fill(float.NegativeInfinity);
            Span<int> bestImages = result.AsSpan(firstQuery * k, n * k);
            bestImages.Fill(-1);
            for (int blockStart = 0; blockStart < imageCount; blockStart += ImagesPerBlock)
            {
                int blockEnd = Math.Min(imageCount, blockStart + ImagesPerBlock);
                for (int q = 0; q < n; q++)
                {
                    ReadOnlySpan<float> query = queries.AsSpan((firstQuery + q) * dimension, dimension);
                    Span<float> scores = bestScores.AsSpan(q * k, k);
                    Span<int> images = bestImages.Slice(q * k, k);
                    for (int image = blockStart; image < blockEnd; image++)
                    {
                        float score = float.NegativeInfinity;
                        long row = (long)image * vectorsPerImage;
                        for (int v = 0; v < vectorsPerImage; v++)
                        {
                            score = MathF.Max(score, TensorPrimitives.Dot(query, baseVectors.AsSpan((int)((row + v) * dimension), dimension)));
                        }

                        if (score <= scores[k - 1]) continue;
                        int i = k - 1;
                        while (i > 0 && score > scores[i - 1])
                        {
                            scores[i] = scores[i - 1];
                            images[i] = images[i - 1];
                            i--;
                        }

                        scores[i] = score;
                        images[i] = image;
                    }
                }
            }
        });
        return result;
    }
}
