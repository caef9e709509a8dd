using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace ObjectRetrieval.Benchmarks.Budgets;

/// <summary>
/// <c>budget-check [--budgets FILE]</c>: runs the benchmark categories named in the budget file
/// with a short in-process job and fails (exit 1) when a time ratio or an allocation exceeds its
/// budget by more than the file's margin. Ratios compare two benchmarks of the same run, so the
/// check holds on any machine; new categories need only new entries in the file.
/// </summary>
public static class BudgetCheck
{
    public const string DefaultBudgetFile = "tests/ObjectRetrieval.Benchmarks/Budgets/budgets.json";

    public static int Run(string[] args)
    {
        string path = args.Length >= 2 && args[0] == "--budgets" ? args[1] : DefaultBudgetFile;
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"budget-check: budget file {Path.GetFullPath(path)} not found (run from the repository root or pass --budgets FILE).");
            return 2;
        }

        BudgetFile file = JsonSerializer.Deserialize<BudgetFile>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException($"{path}: empty budget file.");
        // Ratios hold at a reduced size; keep the run short unless a size was asked for.
        if (Environment.GetEnvironmentVariable("OBJRET_BENCH_VECTORS") is null) Environment.SetEnvironmentVariable("OBJRET_BENCH_VECTORS", "50000");
        string[] categories = file.Budgets.Select(b => b.Category).Distinct(StringComparer.Ordinal).ToArray();

        // Short but stable enough for ratios: in-process (no per-benchmark build), few iterations.
        Job job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(7)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150))
            .WithLaunchCount(1)
            .WithId("budget");
        IConfig config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddFilter(new AnyCategoriesFilter(categories))
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);

        Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(BudgetCheck).Assembly).RunAll(config).ToArray();
        var measured = new Dictionary<string, BenchmarkReport>(StringComparer.Ordinal);
        foreach (BenchmarkReport report in summaries.SelectMany(s => s.Reports))
        {
            if (report.ResultStatistics is null) continue;
            string name = $"{report.BenchmarkCase.Descriptor.Type.Name}.{report.BenchmarkCase.Descriptor.WorkloadMethod.Name}";
            string parameters = report.BenchmarkCase.Parameters.PrintInfo;
            measured[name] = report;
            if (!string.IsNullOrEmpty(parameters)) measured[$"{name}({parameters})"] = report;
        }

        int failures = 0;
        Console.WriteLine();
        Console.WriteLine($"Budgets from {path} (ratio margin {file.RatioMargin:P0}, allocation margin {file.AllocationMargin:P0}):");
        foreach (Budget budget in file.Budgets)
        {
            if (!measured.TryGetValue(budget.Benchmark, out BenchmarkReport? report))
            {
                Console.WriteLine($"  FAIL {budget.Name}: benchmark {budget.Benchmark} did not run or has no result.");
                failures++;
                continue;
            }

            if (budget.Baseline is not null && budget.MaxRatio is { } maxRatio)
            {
                if (!measured.TryGetValue(budget.Baseline, out BenchmarkReport? baseline))
                {
                    Console.WriteLine($"  FAIL {budget.Name}: baseline {budget.Baseline} did not run or has no result.");
                    failures++;
                }
                else
                {
                    double ratio = report.ResultStatistics!.Median / baseline.ResultStatistics!.Median;
                    bool ok = ratio <= maxRatio * (1 + file.RatioMargin);
                    failures += ok ? 0 : 1;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {(ok ? "ok  " : "FAIL")} {budget.Name}: ratio {ratio:F3} (budget {maxRatio:F3}; {Ns(report)} vs {Ns(baseline)})"));
                }
            }

            if (budget.MaxAllocatedBytes is { } maxBytes)
            {
                long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                bool ok = bytes is not null && bytes <= maxBytes * (1 + file.AllocationMargin);
                failures += ok ? 0 : 1;
                Console.WriteLine($"  {(ok ? "ok  " : "FAIL")} {budget.Name}: {bytes?.ToString(CultureInfo.InvariantCulture) ?? "?"} B/op (budget {maxBytes} B/op)");
            }
        }

        Console.WriteLine(failures == 0 ? "All budgets met." : $"{failures} budget(s) exceeded.");
        return failures == 0 ? 0 : 1;
    }

    private static string Ns(BenchmarkReport report) =>
        string.Create(CultureInfo.InvariantCulture, $"{report.ResultStatistics!.Median / 1000:F1} µs");

    private sealed record BudgetFile(double RatioMargin, double AllocationMargin, Budget[] Budgets);

    private sealed record Budget(string Name, string Category, string Benchmark, string? Baseline, double? MaxRatio, long? MaxAllocatedBytes);
}
