def depth(node)
  1 + depth(node)
end

depth({})
