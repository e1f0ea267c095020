using System.Text.Json;
using System.Text.Json.Serialization;

namespace PatientConnect.Contract;

/// <summary>
/// Writes a <see cref="JsonElement"/> as the text it was parsed from. The default converter
/// re-encodes strings (é becomes \u00E9, \/ becomes /); an app's metadata goes back exactly as given.
/// </summary>
public sealed class RawJsonConverter : JsonConverter<JsonElement>
{
    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonElement.ParseValue(ref reader);

    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.GetRawText());
}
