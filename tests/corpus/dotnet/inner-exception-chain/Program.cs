using System;
using System.IO;

namespace Shop {
  class Repository {
    public static string Load(string path) {
      try { return File.ReadAllText(path); }
      catch (Exception e) { throw new InvalidOperationException("repository failure", e); }
    }
  }

  class Program {
    static void Main() {
      Console.WriteLine("loading catalog");
      try { Repository.Load("/nonexistent/catalog.json"); }
      catch (Exception e) { throw new ApplicationException("request 42 failed", e); }
    }
  }
}
