using System.Security.Cryptography;
using System.Text;

namespace PatientConnect.Tenants;

public static class ApiKeys
{
    /// <summary>The grain key of an API key: a high-entropy secret needs a fast hash, not a KDF.</summary>
    public static string Hash(string apiKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
}
