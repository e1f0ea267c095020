namespace SandboxEhr.Tests;
