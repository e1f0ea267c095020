namespace PatientConnect.Sessions;

/// <summary>
/// One page of a patient's sessions as the contract's JSON (<c>{"data":[…],"next_cursor":…}</c>, UTF-8),
/// written once in the silo; the Api sends the bytes as they are. <see cref="Count"/>: the sessions on it
/// (more than none proves the patient exists, CONTRACT.md "a patient exists from its first session").
/// </summary>
[GenerateSerializer, Immutable, Alias("pc.SessionPageJson")]
public sealed record SessionPageJson(
    [property: Id(0)] byte[] Utf8,
    [property: Id(1)] int Count);
