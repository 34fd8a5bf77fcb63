module Billing
  class GatewayError < StandardError; end

  class Client
    def charge(amount)
      send_request(amount)
    rescue IOError => e
      raise GatewayError, "charge of #{amount} failed"
    end

    def send_request(amount)
      raise IOError, "socket closed by peer"
    end
  end
end

Billing::Client.new.charge(40)
