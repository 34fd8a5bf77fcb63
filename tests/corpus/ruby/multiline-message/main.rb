class ConfigError < StandardError; end

def load_config(h)
  bad = h.reject { |_, v| v.is_a?(Integer) }.keys
  raise ConfigError, "invalid configuration:\n" + bad.map { |k| "  #{k}: must be an integer" }.join("\n") unless bad.empty?
  h
end

load_config("port" => "80", "workers" => 4, "timeout" => "30s")
