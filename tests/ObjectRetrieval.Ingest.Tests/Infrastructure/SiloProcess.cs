using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ObjectRetrieval.Ingest.Tests;

/// <summary>One `objret serve --config FILE` process; ready once it prints its "ready:" line.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private SiloProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Tail
    {
        get
        {
            lock (_output) return string.Join(Environment.NewLine, _output.TakeLast(30));
        }
    }

    public static SiloProcess Start(string name, string configFile, object configuration)
    {
        File.WriteAllText(configFile, JsonSerializer.Serialize(configuration));
        string objret = Path.Combine(AppContext.BaseDirectory, "objret.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { objret, "serve", "--config", configFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start objret.");
        var silo = new SiloProcess(name, process);
        process.OutputDataReceived += (_, e) => silo.Record(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ => silo._ready.TrySetException(new InvalidOperationException($"{name} exited before it was ready:\n{silo.Tail}")), TaskScheduler.Default);
        return silo;
    }

    public async Task WaitReadyAsync(TimeSpan deadline)
    {
        try
        {
            await _ready.Task.WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} printed no ready line within {deadline}:\n{Tail}");
        }
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to the cluster.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Record(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
        if (line.StartsWith("ready:", StringComparison.Ordinal)) _ready.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
