using Xunit.Abstractions;

namespace ObjectRetrieval.Process.Tests;

/// <summary>
/// <c>objret bench shard-faults</c> with a reduced trial count: a child writer SIGKILLed at points of append, seal,
/// manifest update and compaction, on local disk and on Azurite; the full count is a bench run (README).
/// </summary>
public sealed class ShardFaultProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "objret-faults-" + Guid.NewGuid().ToString("N"));

    private async Task<string> RunAsync(params string[] storage)
    {
        await using ObjretProcess bench = ObjretProcess.Start(["bench", "shard-faults", "--trials", "12", "--seed", "3", .. storage], name: "objret bench shard-faults");
        int exitCode = await bench.WaitForExitAsync(Deadline);
        output.WriteLine(bench.Output);
        Assert.True(exitCode == 0, bench.Tail);
        return bench.Output;
    }

    [Fact]
    public async Task A_writer_killed_at_twelve_points_on_local_disk_loses_no_acknowledged_write_and_keeps_identical_results()
    {
        string report = await RunAsync("--dir", _root);
        Assert.Contains("12 trials, 12 SIGKILLs", report, StringComparison.Ordinal);
        Assert.Contains("acknowledged writes lost: 0; duplicates: 0; other failures: 0", report, StringComparison.Ordinal);
        Assert.Contains("/ Append", report, StringComparison.Ordinal);
        Assert.Contains("/ Manifest", report, StringComparison.Ordinal);
        Assert.Contains("/ Segment", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_writer_killed_at_twelve_points_on_azurite_loses_no_acknowledged_write_and_keeps_identical_results()
    {
        await using Azurite azurite = await Azurite.StartBlobAsync();
        string report = await RunAsync("--blob", azurite.BlobConnectionString, "--container", "faults-" + Guid.NewGuid().ToString("N")[..12]);
        Assert.Contains("on blob storage: 12 trials, 12 SIGKILLs", report, StringComparison.Ordinal);
        Assert.Contains("acknowledged writes lost: 0; duplicates: 0; other failures: 0", report, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
