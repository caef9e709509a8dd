using System.Runtime.InteropServices;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// Inverted-file index for large shards. A coarse quantiser splits the space into lists; each
/// list keeps its vectors' codes back to back with their scales and row ids, so probing a list
/// is one sequential SIMD scan. A search probes the <see cref="SearchOptions.NProbe"/> lists
/// nearest the query and ranks every vector in them exactly on its stored code (no further
/// approximation inside the probed lists), keeping each image's best vector.
/// <para>
/// Until <see cref="Train()"/> runs, everything sits in one list and search is exact. After
/// training, new vectors go to their nearest list. One writer at a time; searches may run
/// concurrently with each other but not with writes.
/// </para>
/// </summary>
public sealed class IvfVectorIndex : IVectorIndexReader, IVectorIndexWriter
{
    private readonly ImageTable _images = new();
    private InvertedList[] _lists;
    private CoarseQuantizer? _quantizer;

    public IvfVectorIndex(int dimension, VectorCodecKind codec = VectorCodecKind.Int8, IvfOptions? options = null)
        : this(VectorCodecs.Create(codec, dimension), options)
    {
    }

    public IvfVectorIndex(IVectorCodec codec, IvfOptions? options = null)
    {
        Codec = codec;
        Options = options ?? new IvfOptions();
        Options.Validate();
        _lists = [new InvertedList(codec)];
    }

    public IVectorCodec Codec { get; }

    public IvfOptions Options { get; }

    public int Dimension => Codec.Dimension;

    public bool IsTrained => _quantizer is not null;

    /// <summary>Lists in use: 1 before training, about <see cref="IvfOptions.ListCount"/> after.</summary>
    public int ListCount => _lists.Length;

    public int ImageCount => _images.LiveImageCount;

    public long VectorCount => _images.LiveVectorCount;

    public long DeadVectorCount => _images.DeadVectorCount;

    /// <summary>Bytes per stored vector inside the lists: code, scale (int8) and row id.</summary>
    public int CodeBytesPerVector => Codec.CodeBytes + (Codec.UsesScale ? sizeof(float) : 0) + sizeof(int);

    public long MemoryBytes =>
        _lists.Sum(l => l.MemoryBytes) + (_quantizer?.MemoryBytes ?? 0) + _images.MemoryBytes;

    /// <summary>Vectors per list (live and tombstoned), for balance statistics.</summary>
    public int[] ListSizes() => _lists.Select(l => l.Count).ToArray();

    public bool Contains(string imageId) => _images.Contains(imageId);

    public void Upsert(string imageId, ReadOnlySpan<float> vectors, int vectorCount)
    {
        IndexGuards.Upsert(imageId, vectors, vectorCount, Dimension);
        int slot = _images.Upsert(imageId, vectorCount);
        int firstRow = _images.FirstRow(slot);
        for (int v = 0; v < vectorCount; v++)
        {
            ReadOnlySpan<float> vector = vectors.Slice(v * Dimension, Dimension);
            int list = _quantizer?.Nearest(vector) ?? 0;
            _lists[list].Add(vector, firstRow + v);
        }
    }

    public bool Delete(string imageId) => _images.Delete(imageId);

    /// <summary>Trains the coarse quantiser on a deterministic sample of the stored vectors and moves every live vector to its list.</summary>
    public void Train()
    {
        int liveCount = checked((int)VectorCount);
        if (liveCount == 0) throw new InvalidOperationException("Cannot train an empty index; add vectors first.");
        int listCount = Math.Min(Options.ListCount, liveCount);
        int sampleCount = (int)Math.Min(liveCount, (long)listCount * Options.TrainingSamplesPerList);

        // Sample among live vectors only, by position over all lists in order.
        (int List, int Position)[] live = LiveLocations(liveCount);
        int[] picks = CoarseKMeans.SampleDistinct(live.Length, sampleCount, new Random(Options.Seed));
        Array.Sort(picks);
        float[] sample = new float[(long)sampleCount * Dimension];
        for (int i = 0; i < sampleCount; i++)
        {
            (int list, int position) = live[picks[i]];
            _lists[list].Codes.Decode(position, sample.AsSpan(i * Dimension, Dimension));
        }

        Train(sample, sampleCount, listCount, live);
    }

    /// <summary>Trains on the given unit vectors (row-major, <paramref name="count"/> × Dimension) instead of a sample of the stored ones.</summary>
    public void Train(ReadOnlySpan<float> trainingVectors, int count)
    {
        if (trainingVectors.Length != (long)count * Dimension) throw new ArgumentException($"{trainingVectors.Length} values given for {count} vectors of dimension {Dimension}.", nameof(trainingVectors));
        int listCount = Math.Min(Options.ListCount, count);
        Train(trainingVectors.ToArray(), count, listCount, LiveLocations(checked((int)VectorCount)));
    }

    /// <summary>Drops the vectors of replaced and deleted images from the lists.</summary>
    public void Compact()
    {
        if (DeadVectorCount == 0) return;
        int[] newRowOf = _images.Compact();
        for (int l = 0; l < _lists.Length; l++)
        {
            InvertedList old = _lists[l];
            var kept = new InvertedList(Codec, old.Count);
            ReadOnlySpan<int> rows = old.Rows;
            for (int i = 0; i < rows.Length; i++)
            {
                int row = newRowOf[rows[i]];
                if (row >= 0) kept.AddCode(old.Codes.Code(i), old.Codes.Scale(i), row);
            }

            kept.TrimExcess();
            _lists[l] = kept;
        }
    }

    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null)
    {
        IndexGuards.Query(query, Dimension, k);
        int nprobe = (options ?? SearchOptions.Default).NProbe;
        if (nprobe <= 0) throw new ArgumentOutOfRangeException(nameof(options), nprobe, "NProbe must be at least 1.");
        if (_images.LiveImageCount == 0) return [];

        SearchScratch scratch = SearchScratch.For(Dimension);
        PreparedQuery prepared = scratch.Query;
        Codec.PrepareQuery(query, prepared);

        nprobe = Math.Min(nprobe, _lists.Length);
        if (scratch.Lists.Length < nprobe) scratch.Lists = new int[nprobe];
        Span<int> probed = scratch.Lists.AsSpan(0, nprobe);
        if (_quantizer is null)
        {
            probed[0] = 0;
        }
        else
        {
            _quantizer.ProbeCodec.PrepareQuery(query, prepared);
            _quantizer.Probe(prepared, probed, scratch.CoarseScores(_lists.Length));
        }

        ImageTopK top = scratch.Top;
        top.Reset(Math.Min(k, _images.LiveImageCount), _images);
        ReadOnlySpan<bool> deleted = _images.DeletedFlags;
        ReadOnlySpan<int> firstRows = _images.FirstRows;
        foreach (int l in probed)
        {
            InvertedList list = _lists[l];
            if (list.Count == 0) continue;
            Span<float> scores = scratch.Scores(list.Count);
            list.Codes.ScoreAll(prepared, scores);
            ReadOnlySpan<int> rows = list.Rows;
            for (int i = 0; i < scores.Length; i++)
            {
                if (scores[i] < top.Threshold) continue;
                int slot = _images.OwnerOf(rows[i]);
                if (deleted[slot]) continue;
                top.Offer(slot, scores[i], rows[i] - firstRows[slot]);
            }
        }

        return top.ToHits();
    }

    private (int List, int Position)[] LiveLocations(int liveCount)
    {
        var live = new (int List, int Position)[liveCount];
        int n = 0;
        ReadOnlySpan<bool> deleted = _images.DeletedFlags;
        for (int l = 0; l < _lists.Length; l++)
        {
            ReadOnlySpan<int> rows = _lists[l].Rows;
            for (int i = 0; i < rows.Length; i++)
            {
                if (!deleted[_images.OwnerOf(rows[i])]) live[n++] = (l, i);
            }
        }

        return live;
    }

    private void Train(float[] sample, int sampleCount, int listCount, (int List, int Position)[] live)
    {
        CoarseQuantizer quantizer = CoarseQuantizer.Train(sample, sampleCount, Dimension, listCount, Options.Iterations, Options.Seed);
        InvertedList[] old = _lists;
        int[] target = new int[live.Length];
        AssignAll(quantizer, old, live, target);

        // A sample holds only a few vectors of each natural cluster, so sample centroids can cut
        // clusters in two; k-means passes over every stored vector put them back together.
        for (int pass = 0; pass < Options.RefinementPasses; pass++)
        {
            quantizer = quantizer.WithCentroids(MeansOfLists(quantizer, old, live, target));
            AssignAll(quantizer, old, live, target);
        }

        int[] sizes = new int[quantizer.ListCount];
        foreach (int t in target) sizes[t]++;
        var lists = new InvertedList[quantizer.ListCount];
        for (int l = 0; l < lists.Length; l++) lists[l] = new InvertedList(Codec, sizes[l]);
        for (int i = 0; i < live.Length; i++)
        {
            (int list, int position) = live[i];
            InvertedList from = old[list];
            lists[target[i]].AddCode(from.Codes.Code(position), from.Codes.Scale(position), from.Rows[position]);
        }

        _lists = lists;
        _quantizer = quantizer;
        // Tombstoned vectors were not moved; their image slots are dropped here too.
        if (DeadVectorCount > 0) Compact();
    }

    /// <summary>target[i] = the list live vector i belongs to, decided on all cores.</summary>
    private void AssignAll(CoarseQuantizer quantizer, InvertedList[] from, (int List, int Position)[] live, int[] target)
    {
        const int VectorsPerTask = 1024;
        Parallel.For(0, (live.Length + VectorsPerTask - 1) / VectorsPerTask, () => new float[Dimension], (block, _, buffer) =>
        {
            int end = Math.Min(live.Length, (block + 1) * VectorsPerTask);
            for (int i = block * VectorsPerTask; i < end; i++)
            {
                (int list, int position) = live[i];
                from[list].Codes.Decode(position, buffer);
                target[i] = quantizer.Nearest(buffer);
            }

            return buffer;
        }, _ => { });
    }

    /// <summary>Normalised mean of each list's vectors, summed in a fixed order (deterministic); an empty list keeps its centroid.</summary>
    private float[] MeansOfLists(CoarseQuantizer quantizer, InvertedList[] from, (int List, int Position)[] live, int[] target)
    {
        int dim = Dimension;
        float[] sums = new float[quantizer.ListCount * dim];
        float[] vector = new float[dim];
        for (int i = 0; i < live.Length; i++)
        {
            (int list, int position) = live[i];
            from[list].Codes.Decode(position, vector);
            Span<float> sum = sums.AsSpan(target[i] * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(sum, vector, sum);
        }

        for (int l = 0; l < quantizer.ListCount; l++)
        {
            Span<float> sum = sums.AsSpan(l * dim, dim);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(sum);
            if (norm < 1e-12f) quantizer.Centroid(l).CopyTo(sum);
            else System.Numerics.Tensors.TensorPrimitives.Multiply(sum, 1f / norm, sum);
        }

        return sums;
    }

    /// <summary>One list: codes (with scales) and the row id of each, in insertion order.</summary>
    private sealed class InvertedList(IVectorCodec codec, int capacity = 0)
    {
        private readonly List<int> _rows = new(capacity);

        public CodeStore Codes { get; } = new(codec, capacity);

        public int Count => _rows.Count;

        public ReadOnlySpan<int> Rows => CollectionsMarshal.AsSpan(_rows);

        public long MemoryBytes => Codes.MemoryBytes + (long)_rows.Capacity * sizeof(int);

        public void Add(ReadOnlySpan<float> vector, int row)
        {
            Codes.Add(vector);
            _rows.Add(row);
        }

        public void AddCode(ReadOnlySpan<byte> code, float scale, int row)
        {
            Codes.AddCode(code, scale);
            _rows.Add(row);
        }

        public void TrimExcess()
        {
            Codes.TrimExcess();
            _rows.TrimExcess();
        }
    }
}
