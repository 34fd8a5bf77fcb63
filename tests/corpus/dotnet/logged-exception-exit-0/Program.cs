using System;

namespace Shop {
  class Program {
    static void Validate(string name) {
      if (name.Length == 0) throw new ArgumentException("customer name is empty", "name");
    }

    static void Main() {
      try { Validate(""); }
      catch (Exception e) { Console.Error.WriteLine("validation failed: " + e); }
      Console.WriteLine("import finished");
    }
  }
}
