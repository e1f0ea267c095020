using Microsoft.IdentityModel.Tokens;

namespace SandboxEhr.Auth;

/// <summary>
/// Clients of every hospital. Built-in: sandbox-public, sandbox-confidential and sandbox-jwt (whose JWKS is
/// empty until configured). <c>Sandbox:Clients:N:{Id,AuthMethod,Secret,RedirectUris:M,Jwks}</c> adds clients
/// or, with the same Id, replaces a built-in one.
/// </summary>
public sealed class ClientRegistry(IReadOnlyDictionary<string, SandboxClient> clients)
{
    public const string PublicClientId = "sandbox-public";
    public const string ConfidentialClientId = "sandbox-confidential";
    public const string JwtClientId = "sandbox-jwt";

    public IReadOnlyList<SandboxClient> All => [.. clients.Values];

    public SandboxClient? Find(string? clientId) =>
        clientId is not null && clients.TryGetValue(clientId, out var client) ? client : null;

    public static ClientRegistry FromConfiguration(IConfiguration configuration)
    {
        var sandbox = configuration.GetSection("Sandbox");
        var clients = new Dictionary<string, SandboxClient>(StringComparer.Ordinal)
        {
            [PublicClientId] = new() { Id = PublicClientId, AuthMethod = ClientAuthMethod.None },
            [ConfidentialClientId] = new()
            {
                Id = ConfidentialClientId,
                AuthMethod = ClientAuthMethod.ClientSecretBasic,
                Secret = sandbox["ConfidentialSecret"] is { Length: > 0 } configured ? configured : "sandbox-secret",
            },
            [JwtClientId] = new() { Id = JwtClientId, AuthMethod = ClientAuthMethod.PrivateKeyJwt, Jwks = new JsonWebKeySet() },
        };

        foreach (var section in sandbox.GetSection("Clients").GetChildren())
        {
            var id = section["Id"];
            if (string.IsNullOrWhiteSpace(id))
                throw new InvalidOperationException($"Configuration {section.Path}:Id is required.");
            var method = SandboxClient.ParseMethod(section["AuthMethod"]);
            var secret = section["Secret"];
            if (method == ClientAuthMethod.ClientSecretBasic && string.IsNullOrEmpty(secret))
                throw new InvalidOperationException($"Client {id} uses client_secret_basic but has no Secret.");
            JsonWebKeySet? jwks = null;
            if (method == ClientAuthMethod.PrivateKeyJwt)
            {
                var json = section["Jwks"] ?? (section["JwksFile"] is { Length: > 0 } jwksFile ? File.ReadAllText(jwksFile) : null);
                jwks = json is null ? new JsonWebKeySet() : new JsonWebKeySet(json);
            }

            clients[id] = new SandboxClient
            {
                Id = id,
                AuthMethod = method,
                Secret = secret,
                RedirectUris = section.GetSection("RedirectUris").GetChildren()
                    .Select(c => c.Value).OfType<string>().ToList(),
                Jwks = jwks,
            };
        }

        return new ClientRegistry(clients);
    }
}
