using System;

namespace Shop {
  class Tree {
    public Tree Parent;
    public int Depth() { return Parent == null ? 0 : Parent.Depth() + 1; }
  }

  class Program {
    static void Main() {
      var t = new Tree();
      t.Parent = t;
      Console.WriteLine(t.Depth());
    }
  }
}
