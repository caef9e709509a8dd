using System.Runtime.InteropServices;

namespace ObjectRetrieval.Core.Index;

/// <summary>
/// The images of one index and the rows their vectors occupy. Every upsert takes a fresh slot
/// and a fresh run of consecutive rows at the end, so slots ascend with their first row and a
/// row's owner is found by binary search (no per-vector owner array). Replaced and deleted
/// images keep their slot as a tombstone until <see cref="Compact"/>.
/// </summary>
internal sealed class ImageTable
{
    private readonly Dictionary<string, int> _slotById = new(StringComparer.Ordinal);
    private readonly List<string> _ids = [];
    private readonly List<int> _firstRows = [];
    private readonly List<int> _rowCounts = [];
    private readonly List<bool> _deleted = [];

    public int SlotCount => _ids.Count;

    /// <summary>Rows handed out so far, live or not.</summary>
    public int RowCount { get; private set; }

    public int LiveImageCount => _slotById.Count;

    public long LiveVectorCount { get; private set; }

    public long DeadVectorCount => RowCount - LiveVectorCount;

    public string Id(int slot) => _ids[slot];

    public int FirstRow(int slot) => _firstRows[slot];

    public int VectorCount(int slot) => _rowCounts[slot];

    public bool IsDeleted(int slot) => _deleted[slot];

    public ReadOnlySpan<int> FirstRows => CollectionsMarshal.AsSpan(_firstRows);

    public ReadOnlySpan<int> VectorCounts => CollectionsMarshal.AsSpan(_rowCounts);

    public ReadOnlySpan<bool> DeletedFlags => CollectionsMarshal.AsSpan(_deleted);

    public bool Contains(string imageId) => _slotById.ContainsKey(imageId);

    public bool TryGetSlot(string imageId, out int slot) => _slotById.TryGetValue(imageId, out slot);

    /// <summary>Adds (or replaces) an image with <paramref name="vectorCount"/> new rows; returns its new slot.</summary>
    public int Upsert(string imageId, int vectorCount)
    {
        if (RowCount > int.MaxValue - vectorCount) throw new InvalidOperationException("The index holds the most rows one index can address; compact it or split the shard.");
        ref int slotRef = ref CollectionsMarshal.GetValueRefOrAddDefault(_slotById, imageId, out bool existed);
        if (existed) MarkDeleted(slotRef);
        int slot = _ids.Count;
        slotRef = slot;
        _ids.Add(imageId);
        _firstRows.Add(RowCount);
        _rowCounts.Add(vectorCount);
        _deleted.Add(false);
        RowCount += vectorCount;
        LiveVectorCount += vectorCount;
        return slot;
    }

    public bool Delete(string imageId)
    {
        if (!_slotById.Remove(imageId, out int slot)) return false;
        MarkDeleted(slot);
        return true;
    }

    /// <summary>The slot whose rows include <paramref name="row"/>.</summary>
    public int OwnerOf(int row)
    {
        int index = FirstRows.BinarySearch(row);
        return index >= 0 ? index : ~index - 1;
    }

    /// <summary>
    /// Drops tombstones: live images keep their order and get consecutive rows again.
    /// Returns the new row of every old row (-1 for rows of dropped images).
    /// </summary>
    public int[] Compact()
    {
        int[] newRowOf = new int[RowCount];
        var ids = new List<string>(LiveImageCount);
        var firstRows = new List<int>(LiveImageCount);
        var counts = new List<int>(LiveImageCount);
        int nextRow = 0;
        for (int slot = 0; slot < _ids.Count; slot++)
        {
            int first = _firstRows[slot];
            int count = _rowCounts[slot];
            if (_deleted[slot])
            {
                newRowOf.AsSpan(first, count).Fill(-1);
                continue;
            }

            for (int r = 0; r < count; r++) newRowOf[first + r] = nextRow + r;
            _slotById[_ids[slot]] = ids.Count;
            ids.Add(_ids[slot]);
            firstRows.Add(nextRow);
            counts.Add(count);
            nextRow += count;
        }

        _ids.Clear();
        _ids.AddRange(ids);
        _firstRows.Clear();
        _firstRows.AddRange(firstRows);
        _rowCounts.Clear();
        _rowCounts.AddRange(counts);
        _deleted.Clear();
        _deleted.AddRange(Enumerable.Repeat(false, ids.Count));
        _ids.TrimExcess();
        _firstRows.TrimExcess();
        _rowCounts.TrimExcess();
        _deleted.TrimExcess();
        RowCount = nextRow;
        return newRowOf;
    }

    /// <summary>An estimate of the managed memory behind ids, the id dictionary and the per-slot arrays.</summary>
    public long MemoryBytes
    {
        get
        {
            long perSlot = sizeof(int) * 2 + sizeof(bool) + IntPtr.Size;
            // Dictionary entry (hash, next, key, value) plus its bucket.
            long perLiveId = 4 + 4 + IntPtr.Size + 4 + 4;
            long strings = 0;
            foreach (string id in _ids) strings += 22 + 2L * id.Length;
            return _ids.Capacity * perSlot + _slotById.Count * perLiveId + strings;
        }
    }

    private void MarkDeleted(int slot)
    {
        if (_deleted[slot]) return;
        _deleted[slot] = true;
        LiveVectorCount -= _rowCounts[slot];
    }
}
