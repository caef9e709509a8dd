namespace ObjectRetrieval.Encoding.Imaging;

/// <summary>
/// A process-wide bound on decoded pixels in memory at once. Each decode reserves its width × height before it
/// allocates and gives it back when done; a decode that does not fit waits for others to finish. One image larger
/// than the whole budget (it already passed <see cref="ImageLimits.MaxPixels"/>) reserves all of it and runs alone.
/// </summary>
public sealed class PixelBudget
{
    /// <summary>100 M pixels (400 MB of RGBA): one image at the default pixel limit, or many ordinary ones.</summary>
    public const long DefaultPixels = 100_000_000;

    private readonly object _gate = new();
    private long _inUse;

    public PixelBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>The budget every preprocessor shares unless given its own.</summary>
    public static PixelBudget Shared { get; } = new(DefaultPixels);

    public long Capacity { get; }

    public long InUse
    {
        get
        {
            lock (_gate) return _inUse;
        }
    }

    /// <summary>The most pixels ever reserved at once: stays at or under <see cref="Capacity"/>.</summary>
    public long PeakInUse { get; private set; }

    /// <summary>Reserves <paramref name="pixels"/>, waiting while they do not fit; dispose the lease to give them back.</summary>
    public Lease Reserve(long pixels)
    {
        long amount = Math.Clamp(pixels, 0, Capacity);
        lock (_gate)
        {
            while (_inUse + amount > Capacity) Monitor.Wait(_gate);
            _inUse += amount;
            PeakInUse = Math.Max(PeakInUse, _inUse);
        }

        return new Lease(this, amount);
    }

    private void Release(long amount)
    {
        lock (_gate)
        {
            _inUse -= amount;
            Monitor.PulseAll(_gate);
        }
    }

    public readonly struct Lease(PixelBudget budget, long amount) : IDisposable
    {
        public void Dispose() => budget?.Release(amount);
    }
}
