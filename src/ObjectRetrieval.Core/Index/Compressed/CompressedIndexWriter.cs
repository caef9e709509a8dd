using System.Runtime.InteropServices;
using ObjectRetrieval.Core.Index.Codecs;

namespace ObjectRetrieval.Core.Index.Compressed;

/// <summary>
/// The write path of a <see cref="CompressedMultiVectorIndex"/>: images are added as already-encoded
/// rows (<see cref="IndexModel.Encode"/>), numbered densely from 0 in the order added; their product
/// codes go to in-memory IVF lists and their int8 re-rank codes to a file on local disk.
/// <see cref="Complete"/> seals both and opens the searchable index. Single-threaded.
/// </summary>
public sealed class CompressedIndexWriter : IDisposable
{
    private readonly HotListBuilder _lists;
    private readonly RerankCodeWriter _rerank;
    private readonly List<int> _firstRows = [0];
    private bool _completed;

    public CompressedIndexWriter(IndexModel model, string rerankPath)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        _lists = new HotListBuilder(model);
        _rerank = new RerankCodeWriter(rerankPath, model.Dimension, model.Fingerprint);
    }

    public IndexModel Model { get; }

    public int ImageCount => _firstRows.Count - 1;

    public long RowCount => _rerank.RowCount;

    /// <summary>Adds one image (all its vectors, in ordinal order); returns its image number.</summary>
    public int Add(EncodedVectors image)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _lists.Check(image);
        int firstRow = checked((int)_rerank.RowCount);
        for (int v = 0; v < image.Count; v++)
        {
            _lists.Add(image.Lists[v], image.ProductCode(v), firstRow + v);
            _rerank.Append(image.RerankCode(v), image.RerankScales[v]);
        }

        _firstRows.Add(firstRow + image.Count);
        return ImageCount - 1;
    }

    /// <summary>Seals the re-rank file and returns the searchable index (which owns the file from now on).</summary>
    public CompressedMultiVectorIndex Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        _rerank.Complete();
        _rerank.Dispose();
        var reader = new RerankCodeReader(_rerank.Path, Model.Dimension, Model.Fingerprint);
        return new CompressedMultiVectorIndex(Model, _lists.Build(), _firstRows.ToArray(), reader);
    }

    public void Dispose() => _rerank.Dispose();
}

/// <summary>Collects product codes and row numbers per IVF list; packs them for search once complete.</summary>
internal sealed class HotListBuilder(IndexModel model)
{
    private readonly List<byte>[] _codes = Enumerable.Range(0, model.ListCount).Select(_ => new List<byte>()).ToArray();
    private readonly List<int>[] _rows = Enumerable.Range(0, model.ListCount).Select(_ => new List<int>()).ToArray();

    public void Check(EncodedVectors image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Dimension != model.Dimension || image.SubQuantizers != model.Quantizer.SubQuantizers)
        {
            throw new ArgumentException($"Codes of dimension {image.Dimension} with {image.SubQuantizers} sub-quantisers do not fit this model ({model.Dimension}, {model.Quantizer.SubQuantizers}).", nameof(image));
        }

        foreach (int list in image.Lists)
        {
            if ((uint)list >= (uint)model.ListCount) throw new ArgumentException($"List {list} is out of range: the model has {model.ListCount} lists.", nameof(image));
        }
    }

    public void Add(int list, ReadOnlySpan<byte> code, int row)
    {
        _codes[list].AddRange(code);
        _rows[list].Add(row);
    }

    public HotList[] Build()
    {
        int m = model.Quantizer.SubQuantizers;
        var lists = new HotList[_rows.Length];
        for (int l = 0; l < lists.Length; l++)
        {
            int[] rows = _rows[l].ToArray();
            ReadOnlySpan<byte> codes = CollectionsMarshal.AsSpan(_codes[l]);
            byte[] packed;
            if (model.Quantizer.Bits == 4)
            {
                packed = new byte[PqFastScan.BlockCount(rows.Length) * PqFastScan.BlockBytes(m)];
                PqFastScan.Pack(codes, rows.Length, m, packed);
            }
            else
            {
                packed = codes.ToArray();
            }

            lists[l] = new HotList(packed, rows);
            _codes[l] = [];
            _rows[l] = [];
        }

        return lists;
    }
}

/// <summary>One IVF list in the hot path: product codes (fast-scan blocks at 4 bits, back to back at 8) and each code's row number.</summary>
internal sealed record HotList(byte[] Codes, int[] Rows)
{
    public int Count => Rows.Length;

    public long MemoryBytes => Codes.LongLength + Rows.LongLength * sizeof(int);
}
