typedef int hs_wire_stub_;
