using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on 127.0.0.1 in front of the test Postgres. <see cref="Cut"/> drops every open
/// connection and refuses new ones, as if the database were down; <see cref="Restore"/> forwards again.
/// The shared test Postgres itself is never touched.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, byte> _open = new();
    private readonly Task _accepting;
    private volatile bool _cut;

    public TcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Cut()
    {
        _cut = true;
        foreach (var client in _open.Keys) Close(client);
    }

    public void Restore() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_cut)
            {
                // Accepted and dropped at once: the client sees the server go away before any answer.
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        var server = new TcpClient();
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            var up = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var down = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception)
        {
            // A cut or a closed side: both ends are closed below.
        }
        finally
        {
            Close(client);
            Close(server);
        }
    }

    private void Close(TcpClient client)
    {
        _open.TryRemove(client, out _);
        try
        {
            if (client.Connected) client.Client.LingerState = new LingerOption(true, 0);
        }
        catch (Exception)
        {
            // Already gone.
        }
        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var client in _open.Keys) Close(client);
        try
        {
            await _accepting;
        }
        catch (Exception)
        {
            // Stopping.
        }
        _stop.Dispose();
    }
}
