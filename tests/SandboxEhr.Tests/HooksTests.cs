using System.Net;
using static SandboxEhr.Tests.AuthTestSupport;

namespace SandboxEhr.Tests;

public sealed class HooksTests(SandboxProcess sandbox)
{
    [Fact]
    public async Task Hospitals_lists_the_three_virtual_hospitals_with_their_fhir_bases()
    {
        var hospitals = (await sandbox.GetJson("/hospitals")).EnumerateArray().ToList();

        var expected = new[]
        {
            ("riverside", "Riverside General Hospital", "epic", "Madison", "WI", "53703"),
            ("lakeside", "Lakeside Medical Center", "cerner", "Kansas City", "MO", "64108"),
            ("summit", "Summit Health Plan", "payer", "Hartford", "CT", "06103"),
        };
        foreach (var (id, name, profile, city, state, zip) in expected)
        {
            var h = Assert.Single(hospitals, x => x.GetProperty("id").GetString() == id);
            Assert.Equal(name, h.GetProperty("name").GetString());
            Assert.Equal(profile, h.GetProperty("vendor_profile").GetString());
            Assert.Equal(sandbox.FhirBase(id), h.GetProperty("fhir_base_url").GetString());
            Assert.Equal(city, h.GetProperty("city").GetString());
            Assert.Equal(state, h.GetProperty("state").GetString());
            Assert.Equal(zip, h.GetProperty("zip").GetString());
        }
    }

    [Fact]
    public async Task Patients_are_listed_with_birth_date_and_resource_counts()
    {
        var patients = (await sandbox.GetJson("/hospitals/riverside/patients")).EnumerateArray().ToList();

        Assert.True(patients.Count >= 20, $"{patients.Count} patients");
        foreach (var p in patients)
        {
            Assert.False(string.IsNullOrEmpty(p.GetProperty("id").GetString()));
            Assert.False(string.IsNullOrEmpty(p.GetProperty("name").GetString()));
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", p.GetProperty("birth_date").GetString());
            var counts = p.GetProperty("resource_counts");
            Assert.Equal(1, counts.GetProperty("Patient").GetInt32());
            Assert.True(counts.EnumerateObject().Sum(c => c.Value.GetInt32()) > 1);
        }
    }

    [Fact]
    public async Task Patients_of_an_unknown_hospital_are_404()
    {
        using var response = await sandbox.HttpClient.GetAsync("/hospitals/nowhere/patients", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
