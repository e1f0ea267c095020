using System.Text.Json;
using Hl7.Fhir.Serialization;

namespace SandboxEhr.Data;

/// <summary>The one place FHIR JSON (de)serialization is configured.</summary>
public static class FhirJson
{
    /// <summary>Strict options for what the sandbox writes.</summary>
    public static readonly JsonSerializerOptions Options = new JsonSerializerOptions().ForFhir();

    /// <summary>Bundles from elsewhere (Synthea and friends) often bend the rules a little; accept what parses.</summary>
    public static readonly JsonSerializerOptions Lenient =
        new JsonSerializerOptions().ForFhir().UsingMode(DeserializationMode.Recoverable);

    public static byte[] Serialize(Hl7.Fhir.Model.Resource resource) =>
        JsonSerializer.SerializeToUtf8Bytes(resource, Options);
}
