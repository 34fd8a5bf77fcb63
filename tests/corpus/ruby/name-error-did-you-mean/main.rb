def total(items)
  count = items.size
  items.sum / cuont
end

puts total([1, 2, 3])
