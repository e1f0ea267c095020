using System.Net;
using System.Text;
using PatientConnect.EndToEnd.Tests.Infrastructure;

namespace PatientConnect.EndToEnd.Tests.BadInput;

/// <summary>What an app sends is kept exactly, or refused naming the field; never silently altered.</summary>
public sealed class InputFidelityTests(ServiceProcesses services) : EndToEndTest(services)
{
    [Fact]
    public async Task Metadata_comes_back_byte_for_byte_as_written()
    {
        // Escapes, non-ASCII text, an astral character, number spellings and key order the default
        // JSON writer would all change.
        const string metadata = """{"name":"José 😀","esc":"a\/b\u00e9\n","pair":"\ud83d\ude00","n":1.50,"z":1,"a":[true,null,{}]}""";
        var patient = NewPatientId("meta");
        var body = $$"""{"patient_id":"{{patient}}","return_url":"http://127.0.0.1:9/back","metadata": {{metadata.Replace(",", ", ")}} }""";
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new("application/json");
        using var created = await ApiA.PostAsync("v1/patient-sessions", content, Cancel);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains("\"metadata\":" + metadata + ",", await created.Content.ReadAsStringAsync(Cancel));

        var id = (await Json.ReadAsync(created, HttpStatusCode.Created)).Str("id");
        using var get = await ApiA.GetAsync($"v1/patient-sessions/{id}", Cancel);
        Assert.Contains("\"metadata\":" + metadata + ",", await get.Content.ReadAsStringAsync(Cancel));
    }

    [Theory]
    [InlineData("metadata", new byte[] { 0xC3, 0x28 })]
    [InlineData("return_url", new byte[] { 0xFF })]
    [InlineData("patient_id", new byte[] { 0xED, 0xA0, 0x80 })]
    public async Task Invalid_utf8_inside_a_string_is_a_400_naming_its_field(string field, byte[] bad)
    {
        var template = field switch
        {
            "metadata" => """{"patient_id":"p1","return_url":"http://127.0.0.1:9/back","metadata":{"k":"@"}}""",
            "return_url" => """{"patient_id":"p1","return_url":"http://127.0.0.1:9/@"}""",
            _ => """{"patient_id":"p@","return_url":"http://127.0.0.1:9/back"}""",
        };
        var at = template.IndexOf('@');
        byte[] body = [.. Encoding.UTF8.GetBytes(template[..at]), .. bad, .. Encoding.UTF8.GetBytes(template[(at + 1)..])];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await ApiA.PostAsync("v1/patient-sessions", content, Cancel);
        var problem = await Json.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.Str("field"));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"patient_id":"p1","return_url":"http://127.0.0.1:9/back","metadata":{"k":"\ud800"}}""", "metadata")]
    [InlineData("""{"patient_id":"p1","return_url":"http://127.0.0.1:9/back\u0000x"}""", "return_url")]
    [InlineData("""{"patient_id":"p1","return_url":"https://app.example/\udc00"}""", "return_url")]
    public async Task Unpaired_surrogates_and_control_characters_are_refused_naming_the_field(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await ApiA.PostAsync("v1/patient-sessions", content, Cancel);
        var problem = await Json.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.Str("field"));
    }
}
