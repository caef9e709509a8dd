using System.Net;
using System.Net.Sockets;

namespace ObjectRetrieval.Testing;

/// <summary>Loopback ports for test services, so parallel runs never collide on fixed ports.</summary>
public static class Ports
{
    /// <summary>A port the operating system just reported free on 127.0.0.1.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
