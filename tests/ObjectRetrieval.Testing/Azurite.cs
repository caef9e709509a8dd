using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ObjectRetrieval.Testing;

/// <summary>
/// The Azure Storage emulator's blob service, started on a free port in a fresh directory and stopped
/// with the test. Installed by `npm ci` in tests/tools.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    // The emulator's published development account; not a secret.
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _location;

    private Azurite(Process process, string location, int port)
    {
        _process = process;
        _location = location;
        BlobConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";
    }

    public string BlobConnectionString { get; }

    public static async Task<Azurite> StartBlobAsync()
    {
        string binary = FindBinary("azurite-blob");
        int port = Ports.Free();
        string location = Path.Combine(Path.GetTempPath(), "objret-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(location);
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList = { "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--location", location, "--skipApiVersionCheck", "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new Azurite(process, location, port);
        await WaitUntilListeningAsync(process, port, TimeSpan.FromSeconds(60));
        return azurite;
    }

    private static async Task WaitUntilListeningAsync(Process process, int port, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} before listening on port {port}.");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet; wait for the next attempt on the process's exit or a short yield.
                await Task.WhenAny(process.WaitForExitAsync(timeout.Token), Task.Delay(50, timeout.Token));
            }
        }
    }

    private static string FindBinary(string name)
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "tools", "node_modules", ".bin", name);
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException($"{name} is not installed. Run `npm ci` in tests/tools (it pins azurite 3.37.0).");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_location, recursive: true);
        }
        catch (IOException)
        {
            // The emulator may still hold a file for a moment; the temp directory is cleaned eventually.
        }
    }
}
