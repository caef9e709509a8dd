using ObjectRetrieval.Core.Index;
using ObjectRetrieval.Core.Index.Compressed;

namespace ObjectRetrieval.Core.Tests.Index;

public sealed class CompressedMultiVectorIndexTests : IDisposable
{
    private const int Dim = 64;
    private const int Images = 400;
    private const int PerImage = 4;
    private readonly string _folder = Directory.CreateTempSubdirectory("objret-compressed-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly MultiVectorGenerator Generator = new(Dim, PerImage, 60, 0.75f, 0.4f, 1.0, seed: 5);

    private static float[] Vectors()
    {
        float[] all = new float[Images * PerImage * Dim];
        int written = 0;
        Generator.GenerateImages(Images, (batch, rows) =>
        {
            batch.CopyTo(all.AsSpan(written * Dim));
            written += rows;
        });
        return all;
    }

    private (CompressedMultiVectorIndex Index, IndexModel Model, List<EncodedVectors> Images, float[] Vectors) Build(int bits, string name = "index")
    {
        float[] vectors = Vectors();
        IndexModel model = IndexModel.Train(vectors, Images * PerImage, Dim, new IndexModelOptions { ListCount = 16, SubQuantizers = 16, Bits = bits, Seed = 3 });
        var images = new List<EncodedVectors>();
        using var writer = new CompressedIndexWriter(model, Path.Combine(_folder, name + ".rerank"));
        for (int i = 0; i < Images; i++)
        {
            EncodedVectors image = model.Encode(vectors.AsSpan(i * PerImage * Dim, PerImage * Dim), PerImage);
            images.Add(image);
            Assert.Equal(i, writer.Add(image));
        }

        return (writer.Complete(), model, images, vectors);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Wide_probing_and_deep_re_rank_find_the_exact_max_sim_images(int bits)
    {
        (CompressedMultiVectorIndex index, _, _, float[] vectors) = Build(bits);
        using (index)
        {
            float[] queries = Generator.GenerateQueries(30);
            int[] truth = ExactMaxSim.Compute(vectors, Images, PerImage, queries, 30, Dim, 10);
            var settings = new CompressedSearchSettings(NProbe: 16, RerankDepth: 400);
            int[] found = new int[30 * 10];
            for (int q = 0; q < 30; q++)
            {
                ImageHit[] hits = index.Search(queries.AsSpan(q * Dim, Dim), 10, settings).Hits;
                Assert.Equal(10, hits.Length);
                Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
                Assert.Equal(10, hits.Select(h => h.Image).Distinct().Count());
                for (int i = 0; i < 10; i++) found[q * 10 + i] = hits[i].Image;
            }

            double recall = ExactNeighbours.Recall(truth, 10, found, 10, 30, 10);
            Assert.True(recall >= 0.9, $"image recall@10 {recall:F3}");
        }
    }

    [Fact]
    public void Narrow_search_scans_fewer_codes_and_reads_fewer_re_rank_bytes()
    {
        (CompressedMultiVectorIndex index, _, _, _) = Build(4);
        using (index)
        {
            float[] query = Generator.GenerateQueries(1);
            CompressedSearchResult wide = index.Search(query, 10, new CompressedSearchSettings(16, 800));
            CompressedSearchResult narrow = index.Search(query, 10, new CompressedSearchSettings(2, 50));
            Assert.Equal(Images * PerImage, wide.CodesScanned);
            Assert.True(narrow.CodesScanned < wide.CodesScanned);
            Assert.Equal(50 * (Dim + 4), narrow.RerankBytesRead);
            Assert.Equal(800 * (Dim + 4), wide.RerankBytesRead);
        }
    }

    [Fact]
    public void Scores_are_the_exact_int8_scores_of_the_best_vector()
    {
        (CompressedMultiVectorIndex index, _, _, _) = Build(4);
        using (index)
        {
            float[] query = Generator.GenerateQueries(1);
            foreach (ImageHit hit in index.Search(query, 5, new CompressedSearchSettings(16, 1600)).Hits)
            {
                float best = Enumerable.Range(0, PerImage).Max(v => index.ExactScore(query, hit.Image, v));
                Assert.Equal(best, hit.Score);
                Assert.Equal(best, index.ExactScore(query, hit.Image, hit.VectorOrdinal));
            }
        }
    }

    [Fact]
    public void Deleted_images_never_come_back()
    {
        (CompressedMultiVectorIndex index, _, _, _) = Build(4);
        using (index)
        {
            float[] query = Generator.GenerateQueries(1);
            var settings = new CompressedSearchSettings(16, 1600);
            ImageHit[] before = index.Search(query, 10, settings).Hits;
            Assert.True(index.Delete(before[0].Image));
            Assert.True(index.Delete(before[3].Image));
            Assert.False(index.Delete(before[0].Image));
            Assert.Equal(Images - 2, index.LiveImageCount);
            ImageHit[] after = index.Search(query, 10, settings).Hits;
            Assert.DoesNotContain(after, h => h.Image == before[0].Image || h.Image == before[3].Image);
            Assert.Equal(before.Where((_, i) => i is not (0 or 3)).Select(h => h.Image), after.Take(8).Select(h => h.Image));
            Assert.Throws<ArgumentOutOfRangeException>(() => index.Delete(Images));
        }
    }

    [Fact]
    public void An_index_reopened_from_its_codes_answers_exactly_as_the_one_that_wrote_them()
    {
        (CompressedMultiVectorIndex written, IndexModel model, List<EncodedVectors> images, _) = Build(4);
        string modelPath = Path.Combine(_folder, "model.bin");
        model.Save(modelPath);
        // Only the hot parts travel: the re-rank codes are already in the file.
        IEnumerable<EncodedVectors> hotOnly = images.Select(i => i);
        using (written)
        using (CompressedMultiVectorIndex reopened = CompressedMultiVectorIndex.Open(IndexModel.Load(modelPath), Path.Combine(_folder, "index.rerank"), hotOnly))
        {
            Assert.Equal(written.ResidentBytes, reopened.ResidentBytes);
            foreach (float[] query in Generator.GenerateQueries(10).Chunk(Dim))
            {
                var settings = new CompressedSearchSettings(4, 100);
                Assert.Equal(written.Search(query, 10, settings).Hits, reopened.Search(query, 10, settings).Hits);
            }
        }
    }

    [Fact]
    public void A_re_rank_file_of_another_model_is_refused()
    {
        (CompressedMultiVectorIndex index, _, List<EncodedVectors> images, float[] vectors) = Build(4);
        index.Dispose();
        IndexModel other = IndexModel.Train(vectors, Images * PerImage, Dim, new IndexModelOptions { ListCount = 16, SubQuantizers = 16, Bits = 4, Seed = 99 });
        var error = Assert.Throws<InvalidDataException>(() => CompressedMultiVectorIndex.Open(other, Path.Combine(_folder, "index.rerank"), images));
        Assert.Contains("not under this model", error.Message);
    }

    [Fact]
    public void Codes_of_another_shape_are_refused_with_the_reason()
    {
        (CompressedMultiVectorIndex index, IndexModel model, _, _) = Build(4);
        index.Dispose();
        using var writer = new CompressedIndexWriter(model, Path.Combine(_folder, "other.rerank"));
        var wrongLists = new EncodedVectors(1, 16, Dim);
        wrongLists.Lists[0] = 16;
        Assert.Contains("out of range", Assert.Throws<ArgumentException>(() => writer.Add(wrongLists)).Message);
        Assert.Contains("do not fit this model", Assert.Throws<ArgumentException>(() => writer.Add(new EncodedVectors(1, 8, Dim))).Message);
    }
}
