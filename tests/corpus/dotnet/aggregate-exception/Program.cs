using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Shop {
  class Program {
    static readonly Dictionary<int, string> Users = new Dictionary<int, string> { { 7, "ada" } };

    static async Task<int> Fetch(int id) {
      await Task.Delay(1);
      return Users[id].Length;
    }

    static void Main(string[] args) {
      Task.WaitAll(Fetch(4711), Fetch(1));
    }
  }
}
