using System.Net;
using System.Net.Sockets;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Free loopback ports. The OS picks an unused one; remembering what was handed out keeps two
/// fixtures of this run from being given the same port between the probe and the bind.
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> Given = [];
    private static readonly Lock Gate = new();

    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Given.Add(port)) return port;
            }
            throw new InvalidOperationException("No free loopback port found in 100 attempts.");
        }
    }
}
