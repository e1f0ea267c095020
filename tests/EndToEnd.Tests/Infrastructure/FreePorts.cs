using System.Net;
using System.Net.Sockets;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Free loopback ports for the processes a fixture starts. They are taken below the kernel's ephemeral
/// range (ip_local_port_range): a port the OS hands out for "port 0" is one it may also give any outgoing
/// connection as its source port between our probe and the process's bind — on a machine busy with
/// loopback traffic a fixture then failed with "address already in use". Remembering what was handed out
/// keeps two fixtures of this run apart; the bind probe skips what another program holds.
/// </summary>
public static class FreePorts
{
    // Below run.sh's fixed ports' neighbours (8080, 8090, 8100+, 11111+) and its gateway ports (30000+).
    private const int First = 15_000;
    private const int DefaultEphemeralStart = 32_768;

    private static readonly HashSet<int> Given = [];
    private static readonly Lock Gate = new();
    private static readonly int End = Math.Min(29_999, EphemeralStart() - 1);

    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(First, End + 1);
                if (Given.Contains(port) || !CanBind(port)) continue;
                Given.Add(port);
                return port;
            }
            throw new InvalidOperationException($"No free loopback port found in {First}–{End} after 1,000 attempts.");
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(range[0], out var start) && start > First + 1_000 ? start : DefaultEphemeralStart;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return DefaultEphemeralStart;
        }
    }
}
