using System.ComponentModel;

namespace Channels.Net.Testing;

/// <summary>Django's spelling of <see cref="WebSocketCommunicator"/>, kept so code ported as written still compiles.</summary>
/// <param name="application">The application under test.</param>
/// <param name="path">The request path.</param>
/// <param name="headers">Request headers.</param>
/// <param name="subprotocols">Subprotocols the client offers.</param>
/// <param name="services">The connection's services.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WebsocketCommunicator(
    IChannelApplication application,
    string path,
    IEnumerable<KeyValuePair<string, string>>? headers = null,
    IEnumerable<string>? subprotocols = null,
    IServiceProvider? services = null) : WebSocketCommunicator(application, path, headers, subprotocols, services);
