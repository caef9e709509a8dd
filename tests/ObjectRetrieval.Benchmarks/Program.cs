using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project tests/ObjectRetrieval.Benchmarks -- --filter '*'
// Budgets (CI): dotnet run -c Release --project tests/ObjectRetrieval.Benchmarks -- budget-check
if (args is ["budget-check", ..]) return ObjectRetrieval.Benchmarks.Budgets.BudgetCheck.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
