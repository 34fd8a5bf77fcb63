using System;
using System.Collections.Generic;
using System.Threading;

namespace Shop {
  class Program {
    static string Region(Dictionary<string, string> cfg) {
      string r = null;
      cfg.TryGetValue("region", out r);
      return r.ToUpperInvariant();
    }

    static void Main() {
      var t = new Thread(() => Region(new Dictionary<string, string>()));
      t.Name = "config-loader";
      t.Start();
      t.Join();
      Console.WriteLine("main done");
    }
  }
}
