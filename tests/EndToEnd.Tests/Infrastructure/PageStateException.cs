namespace PatientConnect.EndToEnd.Tests.Infrastructure;

/// <summary>A failed browser step, with what the page showed when it failed (see <see cref="BrowserFixture.StepsAsync"/>).</summary>
public sealed class PageStateException(string message, Exception inner) : Exception(message, inner);
