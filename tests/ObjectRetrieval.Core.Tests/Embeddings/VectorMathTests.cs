using ObjectRetrieval.Core.Embeddings;

namespace ObjectRetrieval.Core.Tests.Embeddings;

public sealed class VectorMathTests
{
    [Fact]
    public void Normalize_scales_to_unit_length_and_returns_the_norm()
    {
        float[] v = [3, 4];
        float norm = VectorMath.Normalize(v);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, v[0], 5);
        Assert.Equal(0.8f, v[1], 5);
    }

    [Fact]
    public void Normalize_leaves_a_zero_vector_zero_instead_of_producing_NaN()
    {
        float[] v = [0, 0, 0];
        Assert.Equal(0f, VectorMath.Normalize(v));
        Assert.All(v, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Matrix_products_match_row_by_row_dot_products()
    {
        float[] left = [1, 0, 0, 1, 1, 1];   // 3 rows × 2
        float[] right = [2, 3, -1, 4];      // 2 rows × 2
        float[] result = new float[6];
        VectorMath.MatrixMatrixTransposed(left, 3, right, 2, 2, result);
        Assert.Equal([2f, -1f, 3f, 4f, 5f, 3f], result);

        float[] scores = new float[3];
        VectorMath.MatrixVector(left, 3, 2, [2, 3], scores);
        Assert.Equal([2f, 3f, 5f], scores);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Non_finite_values_are_rejected_with_their_position(float bad)
    {
        float[] v = [1, 2, bad, 4];
        var e = Assert.Throws<InvalidEmbeddingException>(() => VectorMath.EnsureFinite(v, "Query"));
        Assert.Contains("element 2", e.Message);
    }

    [Fact]
    public void Dense_embeddings_reject_NaN_patches_and_wrong_shapes()
    {
        Assert.Throws<InvalidEmbeddingException>(() => new DenseEmbeddings([1, float.NaN], 1, 2, [1, 0], 1, 1));
        Assert.Throws<InvalidEmbeddingException>(() => new DenseEmbeddings([1, 0, 0], 1, 2, [1, 0], 1, 1));
        Assert.Throws<InvalidEmbeddingException>(() => new DenseEmbeddings([1, 0], 1, 2, [1], 1, 1));
        Assert.Throws<InvalidEmbeddingException>(() => new DenseEmbeddings([], 0, 2, [1, 0], 1, 1));
        Assert.Throws<InvalidEmbeddingException>(() => new DenseEmbeddings([1, 0], 1, 2, [1, 0], 2, 1));
    }

    [Fact]
    public void Normalized_keeps_the_raw_norms_for_the_outlier_guard()
    {
        var dense = new DenseEmbeddings([3, 4, 0, 2], 2, 2, [1, 1], 2, 1).Normalized();
        Assert.Equal([5f, 2f], dense.RawNorms!);
        Assert.Equal(1f, VectorMath.Norm(dense.Patch(0)), 5);
        Assert.Equal(1f, VectorMath.Norm(dense.Global), 5);
    }
}
