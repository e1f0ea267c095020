using PatientConnect.Grains.Sources;
using PatientConnect.Grains.Sources.Import;
using PatientConnect.Sources;

namespace PatientConnect.Directory.Tests;

/// <summary>Names as the public lists carry them, turned into names a patient can read.</summary>
public sealed class DisplayNameTests
{
    [Theory]
    // noise the lists really carry
    [InlineData("\"GIFT OF LIFE\" PROGRAM", "Gift of Life Program")]
    [InlineData("\"Columbia", "Columbia")]
    [InlineData("*Bloomington Kidney and Hypertension Specialists PC", "Bloomington Kidney and Hypertension Specialists PC")]
    [InlineData("*DO NOT USE* CENTRO DERMATOLOGICO", "Centro Dermatologico")]
    [InlineData("Fresno Surgery Center (FSH Health)-C/S ***MASTER SITE***", "Fresno Surgery Center (FSH Health)-C/S")]
    [InlineData("<NSP> Surgery Partners, (Corporate)-C/S", "Surgery Partners, (Corporate)-C/S")]
    [InlineData("(ASEM) Administracion de Servicios Medicos - C/S", "Administracion de Servicios Medicos - C/S (ASEM)")]
    [InlineData("RadNet Arizona,", "RadNet Arizona")]
    [InlineData("Advanced Cardio Care -", "Advanced Cardio Care")]
    [InlineData("James W. Ratcliff , DPM", "James W. Ratcliff, DPM")]
    [InlineData("Springhill   Medical Center [TEST01]", "Springhill Medical Center [TEST01]")]
    [InlineData("the practice!", "the practice")]
    // capitals, where a readable case is safe
    [InlineData("HCA NORTH FLORIDA UNIVERSE", "HCA North Florida Universe")]
    [InlineData("ST. MARY'S HOSPITAL OF THE VALLEY, LLC", "St. Mary's Hospital of the Valley, LLC")]
    [InlineData("ALEXANDRA BERGER, MD.", "Alexandra Berger, MD.")]
    [InlineData("O'NEIL FAMILY PRACTICE", "O'Neil Family Practice")]
    // and where it is not: short codes and names run together with digits stay as typed
    [InlineData("SIMC", "SIMC")]
    [InlineData("TWQADEMOSQL3", "TWQADEMOSQL3")]
    [InlineData("EYEMDEMR-DEMO04", "EYEMDEMR-DEMO04")]
    [InlineData("Mayo Clinic", "Mayo Clinic")]
    public void Noise_goes_and_capitals_become_readable(string raw, string expected) =>
        Assert.Equal(expected, DisplayNames.Clean(raw));

    [Theory]
    [InlineData("***")]
    [InlineData("  \" , - ")]
    public void A_name_of_only_noise_is_no_name(string raw) => Assert.Null(DisplayNames.Clean(raw));

    [Fact]
    public void The_raw_name_stays_an_alias_and_finds_the_source()
    {
        var builder = new SnapshotBuilder();
        builder.Add(new ImportResult("t.json", "lantern",
            [new ImportedSource("https://fhir.example.org/r4", "epic", ["*DO NOT USE* CENTRO DERMATOLOGICO"])], new Dictionary<string, int>()));
        var source = Assert.Single(builder.Build().Sources);
        Assert.Equal("Centro Dermatologico", source.Name);
        Assert.Equal(["*DO NOT USE* CENTRO DERMATOLOGICO"], source.Aliases);

        var index = new SourceIndex([ToEntry(source)]);
        var found = index.Search(new SourceQuery("do not use centro", null, null, null, null, 10, null), 10, null).Items;
        Assert.Equal("Centro Dermatologico", Assert.Single(found).Name);
        // Found by its raw name, shown by its readable one: no "also known as" with the noise in it.
        Assert.Null(index.Search(new SourceQuery("centro", null, null, null, null, 10, null), 10, null).Items[0].MatchedName);
    }

    [Fact]
    public void One_organisation_on_one_server_under_several_base_urls_is_one_source_whose_other_ids_still_resolve()
    {
        var builder = new SnapshotBuilder();
        builder.Add(new ImportResult("t.json", "lantern",
        [
            new ImportedSource("https://ahsfhir02.iowaclinic.com/R4/open-R4", "altera-digital-health", ["Iowa Clinic"]),
            new ImportedSource("https://ahsfhir02.iowaclinic.com/R4/fhir-R4", "altera-digital-health", ["IOWA CLINIC"]),
            new ImportedSource("https://api.patientfusion.com/fhir/r4/v1/0002cd6f", "practice-fusion", ["Ebrahim Ahmadi MD PC"]),
            new ImportedSource("https://api.practicefusion.com/fhir/r4/v1/0002cd6f", "practice-fusion", ["Ebrahim Ahmadi MD PC"]),
            // the same name elsewhere is another organisation, and stays
            new ImportedSource("https://fhir.othercity.example/r4", "altera-digital-health", ["Iowa Clinic"]),
        ], new Dictionary<string, int>()));
        var sources = builder.Build().Sources;

        Assert.Equal(3, sources.Count);
        var iowa = Assert.Single(sources, s => s.FhirBaseUrl.Contains("iowaclinic", StringComparison.Ordinal));
        Assert.Equal("https://ahsfhir02.iowaclinic.com/R4/fhir-R4", iowa.FhirBaseUrl); // not the open (no sign-in) one
        Assert.Equal(["https://ahsfhir02.iowaclinic.com/R4/open-R4"], iowa.MergedUrls);
        Assert.Single(sources, s => s.Vendor == "practice-fusion");

        var catalog = new SourceCatalog(sources.Select(ToEntry));
        var merged = Ids.SourceIdFor("https://ahsfhir02.iowaclinic.com/R4/open-R4");
        Assert.Equal(Ids.SourceIdFor(iowa.FhirBaseUrl), catalog.Find(merged)?.Id);
    }

    private static SourceEntry ToEntry(SnapshotSource s) =>
        new(new SourceView(Ids.SourceIdFor(s.FhirBaseUrl), s.Name, s.Vendor, s.FhirBaseUrl, s.City, s.State, s.Zip, s.LogoUrl, s.PortalUrl, false,
            PortalName: s.PortalName), false, null)
        {
            Aliases = s.Aliases,
            MergedIds = s.MergedUrls?.Select(Ids.SourceIdFor).ToArray() ?? [],
        };
}
