using System.IO.Compression;
using System.Text;
using PatientConnect.Grains.Sources.Import;

namespace PatientConnect.Directory.Tests;

public sealed class ImporterTests
{
    [Fact]
    public void Lantern_list_keeps_public_R4_endpoints_with_normalised_urls_vendor_and_zip()
    {
        var result = Samples.Import("Epic_Systems_Corporation_EndpointSources.json");

        Assert.Equal(LanternImporter.Format, result.Format);
        var urls = result.Sources.Select(s => s.FhirBaseUrl).ToList();
        Assert.Equal(
        [
            "https://epicproxy.example-health.org/FHIRProxy/api/FHIR/R4",
            "https://fhir.lakeview-clinic.org/interconnect-fhir/api/FHIR/R4",
            "https://fhir.lakeview-clinic.org/interconnect-fhir/api/FHIR/R4",
            "https://fhir-myrecord.cerner.com/r4/abc123",
        ], urls);
        var example = result.Sources[0];
        Assert.Equal("epic", example.Vendor);
        Assert.Equal(["Example Health"], example.Names);
        Assert.Equal("53703", example.Zip);
        Assert.Equal(["Lakeview Clinic"], result.Sources[1].Names);
        Assert.Equal("02114", result.Sources[1].Zip);
        // The file is Epic's list, but the host says who runs that server.
        Assert.Equal("cerner", result.Sources[3].Vendor);
        Assert.Equal(2, result.Skipped["older_release"]);
        Assert.Equal(1, result.Skipped["not_https"]);
        Assert.Equal(1, result.Skipped["private_host"]);
        Assert.Equal(1, result.Skipped["invalid_url"]);
    }

    [Fact]
    public void Fhir_endpoint_bundle_reads_contained_organizations_and_drops_old_or_inactive_endpoints()
    {
        var result = Samples.Import("acme-r4-endpoints.json");

        Assert.Equal(FhirBundleImporter.EndpointBundleFormat, result.Format);
        var source = Assert.Single(result.Sources);
        Assert.Equal("https://fhir.valleyregional.org/api/FHIR/R4", source.FhirBaseUrl);
        Assert.Equal(["Valley Regional Hospital", "VRH"], source.Names);
        Assert.Equal(("Boise", "ID", "83702"), (source.City, source.State, source.Zip));
        Assert.Equal("acme", source.Vendor);
        Assert.Equal(2, result.Skipped["older_release"]); // DSTU2 in the path, fhirVersion=1.0 in the mime type
        Assert.Equal(1, result.Skipped["inactive"]);
    }

    [Fact]
    public void Brands_bundle_gives_every_brand_name_logo_portal_and_address_of_an_R4_endpoint()
    {
        var result = Samples.Import("brands-bundle.json");

        Assert.Equal(FhirBundleImporter.BrandsBundleFormat, result.Format);
        Assert.Equal(1, result.Skipped["older_release"]);
        Assert.All(result.Sources, s => Assert.Equal("https://fhir.northwind.example.org/r4", s.FhirBaseUrl));
        var parent = Assert.Single(result.Sources, s => s.Names[0] == "Northwind Health");
        Assert.Equal(["Northwind Health", "Northwind Medical Group", "NWH"], parent.Names);
        Assert.Equal("https://brands.example.org/logos/northwind.svg", parent.LogoUrl);
        Assert.Equal("https://mychart.northwind.example.org", parent.PortalUrl);
        Assert.Equal(("Portland", "OR", "97201"), (parent.City, parent.State, parent.Zip));
        // A child brand without its own logo or portal shows its parent's.
        var child = Assert.Single(result.Sources, s => s.Names[0] == "Northwind Children's Hospital");
        Assert.Equal(parent.LogoUrl, child.LogoUrl);
        Assert.Equal(parent.PortalUrl, child.PortalUrl);
        Assert.Equal("Northwind MyChart", parent.PortalName);
        Assert.Equal(parent.PortalName, child.PortalName);
        Assert.Equal("Salem", child.City);
    }

    [Theory]
    [InlineData("Truncated_EndpointSources.json", "is not valid JSON")]
    [InlineData("Broken_Vendor_EndpointSources.json", "Endpoints[1].URL is missing or not a string")]
    [InlineData("broken-bundle.json", "entry[1].resource.address is missing or not a string")]
    public void A_malformed_file_is_refused_whole_with_an_error_naming_file_and_place(string file, string expected)
    {
        var builder = new SnapshotBuilder();
        builder.Add(Samples.Import("acme-r4-endpoints.json"));

        var e = Assert.Throws<DirectoryImportException>(() => builder.Add(Samples.Import(file)));

        Assert.Equal(file, e.File);
        Assert.StartsWith(file + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        // Nothing of the broken file got in, not even its good first row.
        var snapshot = builder.Build();
        Assert.Equal(["https://fhir.valleyregional.org/api/FHIR/R4"], snapshot.Sources.Select(s => s.FhirBaseUrl));
    }

    [Theory]
    [InlineData("[1, 2, 3]", "neither a Lantern list")]
    [InlineData("{\"resourceType\": \"Patient\"}", "not a FHIR Bundle")]
    [InlineData("{\"Endpoints\": {\"URL\": \"https://x.example.org\"}}", "\"Endpoints\" must be an array")]
    [InlineData("{\"resourceType\": \"Bundle\", \"entry\": [ {\"fullUrl\": \"x\"} ]}", "entry[0] has no resource object")]
    [InlineData("", "is not valid JSON")]
    public void Wrong_shapes_are_named_in_the_error(string json, string expected)
    {
        var e = Assert.Throws<DirectoryImportException>(() => DirectoryImporter.Import("odd.json", new MemoryStream(Encoding.UTF8.GetBytes(json))));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gzipped_lists_are_read_like_plain_ones()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"Epic_{Guid.NewGuid():N}_EndpointSources.json.gz");
        try
        {
            using (var target = File.Create(path))
            using (var gzip = new GZipStream(target, CompressionLevel.Fastest))
            using (var source = File.OpenRead(Samples.Path("Epic_Systems_Corporation_EndpointSources.json")))
            {
                source.CopyTo(gzip);
            }
            Assert.Equal(4, DirectoryImporter.ImportFile(path).Sources.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Merge_keeps_one_source_per_base_url_with_every_alias_name()
    {
        var builder = new SnapshotBuilder();
        builder.Add(Samples.Import("Epic_Systems_Corporation_EndpointSources.json"));
        builder.Add(Samples.Import("brands-bundle.json"));
        var snapshot = builder.Build();

        Assert.Equal(snapshot.Sources.Count, snapshot.Sources.Select(s => s.FhirBaseUrl.ToLowerInvariant()).Distinct().Count());
        var lakeview = Assert.Single(snapshot.Sources, s => s.FhirBaseUrl.Contains("lakeview", StringComparison.Ordinal));
        Assert.Equal("Lakeview Clinic", lakeview.Name);
        Assert.Equal(["Lakeview Clinics of New England"], lakeview.Aliases);
        Assert.Equal("MA", lakeview.State); // from ZIP 02114
        var northwind = Assert.Single(snapshot.Sources, s => s.FhirBaseUrl.Contains("northwind", StringComparison.Ordinal));
        Assert.Equal("Northwind Health", northwind.Name);
        Assert.Equal(["Northwind Medical Group", "NWH", "Northwind Children's Hospital"], northwind.Aliases);
        Assert.Equal(2, snapshot.Inputs.Count);
    }

    [Fact]
    public void A_base_url_shared_by_many_practices_is_listed_under_its_platform_name()
    {
        var names = Enumerable.Range(1, SnapshotBuilder.SharedEndpointNames + 5).Select(i => $"Practice {i}").ToArray();
        var builder = new SnapshotBuilder();
        builder.Add(new ImportResult("athenahealth_Inc_EndpointSources.json", LanternImporter.Format,
            names.Select(n => new ImportedSource("https://api.platform.athenahealth.com/fhir/r4", "athena", [n])).ToList(),
            new Dictionary<string, int>()));
        var source = Assert.Single(builder.Build().Sources);
        Assert.Equal("athenahealth", source.Name);
        Assert.Equal(names, source.Aliases);
    }

    [Theory]
    [InlineData("https://epicproxy.et1043.epichosted.com/FHIRProxy/api/FHIR/DSTU2/", true)]
    [InlineData("https://fhir-myrecord.cerner.com/dstu2/0b8a0111-e8e6-4c26-a91c-5069cbc6b1ca", true)]
    [InlineData("https://example.org/fhir/STU3", true)]
    [InlineData("https://example.org/fhir/dstu2_1/", true)]
    [InlineData("https://epicproxy.et1043.epichosted.com/FHIRProxy/api/FHIR/R4/", false)]
    [InlineData("https://fhir-myrecord.cerner.com/r4/0b8a0111", false)]
    [InlineData("https://api.platform.athenahealth.com/fhir/r4", false)]
    [InlineData("https://example.org/dstu2things/r4", false)]
    public void Older_releases_are_recognised_from_the_path(string url, bool older) =>
        Assert.Equal(older, EndpointUrls.NamesOlderRelease(url));

    [Theory]
    [InlineData("HTTPS://Fhir.Example.ORG:443/api/FHIR/R4/", "https://fhir.example.org/api/FHIR/R4")]
    [InlineData("https://fhir.example.org:8443/r4#frag", "https://fhir.example.org:8443/r4")]
    [InlineData("  https://fhir.example.org  ", "https://fhir.example.org")]
    [InlineData("http://fhir.example.org/r4", null)]
    [InlineData("ftp://fhir.example.org/r4", null)]
    [InlineData("fhir.example.org/r4", null)]
    public void Urls_are_normalised(string raw, string? expected) => Assert.Equal(expected, EndpointUrls.Normalize(raw));

    [Theory]
    [InlineData("Epic_Systems_Corporation_1_EndpointSources.json", "epic")]
    [InlineData("Cerner_Corporation_EndpointSources.json", "cerner")]
    [InlineData("athenahealth_Inc_EndpointSources.json", "athena")]
    [InlineData("AthenaClinicals_EndpointSources.json", "athena")]
    [InlineData("Medical_Information_Technology_Inc_MEDITECH_1_EndpointSources.json", "meditech")]
    [InlineData("CareEvolutionEndpointSources.json", "careevolution")]
    [InlineData("Practice_Fusion_EndpointSources.json", "practice-fusion")]
    [InlineData("epic-r4-endpoints-2021.json", "epic")]
    public void Vendor_comes_from_the_file_name(string file, string vendor) => Assert.Equal(vendor, Vendors.FromFileName(file));
}
