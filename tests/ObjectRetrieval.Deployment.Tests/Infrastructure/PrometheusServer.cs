using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace ObjectRetrieval.Deployment.Tests.Infrastructure;

/// <summary>A process to scrape: the base URL of its HTTP port and the component label the dashboards group by.</summary>
public sealed record ScrapeTarget(Uri BaseUrl, string Component);

/// <summary>What Prometheus answered for one instant query.</summary>
public sealed record QueryOutcome(string Expression, int SeriesCount, string? Error)
{
    public bool IsEmpty => Error is null && SeriesCount == 0;
}

/// <summary>
/// A real Prometheus (Debian package <c>prometheus</c>) on a free loopback port, scraping the given targets'
/// <c>/metrics</c> with a generated configuration; its data lives in a temporary folder removed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly string _workDirectory;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusServer(System.Diagnostics.Process process, string workDirectory, Uri address)
    {
        _process = process;
        _workDirectory = workDirectory;
        Address = address;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri Address { get; }

    /// <summary>Prometheus's own output so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<PrometheusServer> StartAsync(IReadOnlyCollection<ScrapeTarget> targets, TimeSpan scrapeInterval, TimeSpan startTimeout)
    {
        var binary = ExternalTool.Require("prometheus");
        var workDirectory = Directory.CreateTempSubdirectory("objret-prometheus-").FullName;
        var configPath = Path.Combine(workDirectory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, BuildConfig(targets, scrapeInterval));
        var port = Ports.Free();

        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={configPath}",
                     $"--storage.tsdb.path={Path.Combine(workDirectory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}",
                     "--log.level=warn",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("Could not start prometheus.");
        var server = new PrometheusServer(process, workDirectory, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await server.WaitUntilAsync(async () => (await server._http.GetAsync("-/ready")).IsSuccessStatusCode, startTimeout, "Prometheus ready");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Scrape configuration: one job, every target labelled with its component, as the chart's ServiceMonitor does.</summary>
    public static string BuildConfig(IEnumerable<ScrapeTarget> targets, TimeSpan scrapeInterval)
    {
        var interval = $"{(int)Math.Max(1, scrapeInterval.TotalSeconds)}s";
        var config = new StringBuilder();
        config.AppendLine("global:");
        config.AppendLine($"  scrape_interval: {interval}");
        config.AppendLine($"  evaluation_interval: {interval}");
        config.AppendLine("scrape_configs:");
        config.AppendLine("  - job_name: object-retrieval");
        config.AppendLine("    metrics_path: /metrics");
        config.AppendLine("    static_configs:");
        foreach (var target in targets)
        {
            var hostPort = target.BaseUrl.IsDefaultPort ? target.BaseUrl.Host : $"{target.BaseUrl.Host}:{target.BaseUrl.Port}";
            config.AppendLine($"      - targets: ['{hostPort}']");
            config.AppendLine("        labels:");
            config.AppendLine($"          component: '{target.Component}'");
        }

        return config.ToString();
    }

    /// <summary>Waits until Prometheus reports every target up (at least one successful scrape each).</summary>
    public Task WaitForTargetsUpAsync(TimeSpan timeout) =>
        WaitUntilAsync(async () =>
        {
            var body = JsonNode.Parse(await _http.GetStringAsync("api/v1/targets?state=active"))!;
            var targets = body["data"]?["activeTargets"]?.AsArray() ?? [];
            return targets.Count > 0 && targets.All(t => (string?)t?["health"] == "up");
        }, timeout, "every scrape target up");

    /// <summary>Waits until each target has been scraped at least <paramref name="scrapes"/> times (rate() needs two samples).</summary>
    public Task WaitForScrapesAsync(int scrapes, TimeSpan timeout) =>
        WaitUntilAsync(async () =>
        {
            var outcome = await QueryAsync($"min(count_over_time(up[10m])) >= {scrapes.ToString(CultureInfo.InvariantCulture)}");
            return outcome.SeriesCount > 0;
        }, timeout, $"{scrapes} scrapes of every target");

    /// <summary>Evaluates one instant PromQL query through /api/v1/query.</summary>
    public async Task<QueryOutcome> QueryAsync(string expression)
    {
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("query", expression)]);
        using var response = await _http.PostAsync("api/v1/query", form);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if ((string?)body["status"] != "success")
        {
            return new QueryOutcome(expression, 0, $"{body["errorType"]}: {body["error"]}");
        }

        var data = body["data"]!;
        var count = (string?)data["resultType"] switch
        {
            "vector" or "matrix" => data["result"]!.AsArray().Count,
            "scalar" or "string" => 1,
            _ => 0,
        };
        return new QueryOutcome(expression, count, null);
    }

    /// <summary>
    /// Evaluates every dashboard query (Grafana variables substituted) and returns those that are empty or
    /// fail, polling until none is left or the deadline passes (series appear one scrape at a time).
    /// </summary>
    public async Task<IReadOnlyList<(DashboardQuery Query, QueryOutcome Outcome)>> FindEmptyQueriesAsync(
        IEnumerable<DashboardQuery> queries, TimeSpan timeout, string rateInterval = "1m")
    {
        var pending = queries.ToList();
        var deadline = DateTime.UtcNow + timeout;
        var failures = new List<(DashboardQuery, QueryOutcome)>();
        while (true)
        {
            failures.Clear();
            foreach (var query in pending)
            {
                var outcome = await QueryAsync(DashboardQueries.ToPromQl(query.Expression, rateInterval));
                if (outcome.Error is not null || outcome.SeriesCount == 0)
                {
                    failures.Add((query, outcome));
                }
            }

            // A query that fails to parse will not get better by waiting.
            if (failures.Count == 0 || failures.All(f => f.Item2.Error is not null) || DateTime.UtcNow > deadline)
            {
                return failures;
            }

            pending = failures.Select(f => f.Item1).ToList();
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_workDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is not worth failing a test over.
        }
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Prometheus exited ({_process.ExitCode}) while waiting for {what}:\n{Log}");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}. Last error: {last?.Message}\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
