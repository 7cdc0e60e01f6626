// Every numeric reply the IRC server sends, by its conventional name (Modern IRC Client
// Protocol, "Numerics"). Code elsewhere names these constants and never writes a bare
// three-digit string, so a grep for a name finds every place a reply is produced.

// Registration greeting.
export const RPL_WELCOME = '001';
export const RPL_YOURHOST = '002';
export const RPL_CREATED = '003';
export const RPL_MYINFO = '004';
export const RPL_ISUPPORT = '005';

// Replies.
export const RPL_UMODEIS = '221';
export const RPL_LUSERCLIENT = '251';
export const RPL_LUSEROP = '252';
export const RPL_LUSERUNKNOWN = '253';
export const RPL_LUSERCHANNELS = '254';
export const RPL_LUSERME = '255';
export const RPL_LOCALUSERS = '265';
export const RPL_GLOBALUSERS = '266';
export const RPL_AWAY = '301';
export const RPL_USERHOST = '302';
export const RPL_ISON = '303';
export const RPL_UNAWAY = '305';
export const RPL_NOWAWAY = '306';
export const RPL_WHOISUSER = '311';
export const RPL_WHOISSERVER = '312';
export const RPL_WHOWASUSER = '314';
export const RPL_ENDOFWHO = '315';
export const RPL_WHOISIDLE = '317';
export const RPL_ENDOFWHOIS = '318';
export const RPL_WHOISCHANNELS = '319';
export const RPL_LISTSTART = '321';
export const RPL_LIST = '322';
export const RPL_LISTEND = '323';
export const RPL_CHANNELMODEIS = '324';
export const RPL_CREATIONTIME = '329';
export const RPL_NOTOPIC = '331';
export const RPL_TOPIC = '332';
export const RPL_TOPICWHOTIME = '333';
export const RPL_INVITING = '341';
export const RPL_INVITELIST = '346';
export const RPL_ENDOFINVITELIST = '347';
export const RPL_EXCEPTLIST = '348';
export const RPL_ENDOFEXCEPTLIST = '349';
export const RPL_VERSION = '351';
export const RPL_WHOREPLY = '352';
export const RPL_NAMREPLY = '353';
/** WHOX's reply: the fields asked for, in the spec's order. */
export const RPL_WHOSPCRPL = '354';
export const RPL_ENDOFNAMES = '366';
export const RPL_BANLIST = '367';
export const RPL_ENDOFBANLIST = '368';
export const RPL_ENDOFWHOWAS = '369';
export const RPL_INFO = '371';
export const RPL_MOTD = '372';
export const RPL_ENDOFINFO = '374';
export const RPL_MOTDSTART = '375';
export const RPL_ENDOFMOTD = '376';
export const RPL_TIME = '391';
export const RPL_WHOISSECURE = '671';
export const RPL_HELPSTART = '704';
export const RPL_HELPTXT = '705';
export const RPL_ENDOFHELP = '706';
/** The +q (quiet) list, as Solanum numbers it: `<channel> q <mask> <setter> <time>`. */
export const RPL_QUIETLIST = '728';
export const RPL_ENDOFQUIETLIST = '729';

// Errors.
/** The modern spec's catch-all: a command that failed for a reason no other numeric names. */
export const ERR_UNKNOWNERROR = '400';
export const ERR_NOSUCHNICK = '401';
export const ERR_HELPNOTFOUND = '524';
export const ERR_NOSUCHSERVER = '402';
export const ERR_NOSUCHCHANNEL = '403';
export const ERR_CANNOTSENDTOCHAN = '404';
export const ERR_TOOMANYCHANNELS = '405';
export const ERR_WASNOSUCHNICK = '406';
export const ERR_TOOMANYTARGETS = '407';
export const ERR_INVALIDCAPCMD = '410';
export const ERR_NORECIPIENT = '411';
export const ERR_NOTEXTTOSEND = '412';
export const ERR_INPUTTOOLONG = '417';
export const ERR_UNKNOWNCOMMAND = '421';
export const ERR_NOMOTD = '422';
export const ERR_NONICKNAMEGIVEN = '431';
export const ERR_ERRONEUSNICKNAME = '432';
export const ERR_NICKNAMEINUSE = '433';
export const ERR_USERNOTINCHANNEL = '441';
export const ERR_NOTONCHANNEL = '442';
export const ERR_USERONCHANNEL = '443';
export const ERR_NOTREGISTERED = '451';
export const ERR_NEEDMOREPARAMS = '461';
export const ERR_ALREADYREGISTERED = '462';
export const ERR_PASSWDMISMATCH = '464';
export const ERR_NOPRIVILEGES = '481';
export const ERR_CHANNELISFULL = '471';
export const ERR_UNKNOWNMODE = '472';
export const ERR_INVITEONLYCHAN = '473';
export const ERR_BANNEDFROMCHAN = '474';
export const ERR_BADCHANNELKEY = '475';
export const ERR_NEEDREGGEDNICK = '477';
export const ERR_BANLISTFULL = '478';
/** Not in the modern document; ergo's and others' reply for a malformed `#` name. */
export const ERR_BADCHANNAME = '479';
export const ERR_CHANOPRIVSNEEDED = '482';
export const ERR_UMODEUNKNOWNFLAG = '501';
export const ERR_USERSDONTMATCH = '502';
export const ERR_INVALIDMODEPARAM = '696';

/**
 * The network state could not be reached (with --redis: Redis is down): the command did not
 * run; try again. RFC 2812's "temporarily unavailable" numeric, used for any command.
 */
export const ERR_UNAVAILRESOURCE = '437';

// Accounts (WHOIS) and SASL (IRCv3 sasl-3.1/3.2).
export const RPL_WHOISACCOUNT = '330';
export const RPL_LOGGEDIN = '900';
export const RPL_LOGGEDOUT = '901';
export const ERR_NICKLOCKED = '902';
export const RPL_SASLSUCCESS = '903';
export const ERR_SASLFAIL = '904';
export const ERR_SASLTOOLONG = '905';
export const ERR_SASLABORTED = '906';
export const ERR_SASLALREADY = '907';
export const RPL_SASLMECHS = '908';

// Operators.
export const RPL_WHOISOPERATOR = '313';
/** WHOIS: the user has the bot mode (+B, IRCv3 bot-mode). */
export const RPL_WHOISBOT = '335';
export const RPL_YOUREOPER = '381';
export const RPL_REHASHING = '382';
export const ERR_YOUREBANNEDCREEP = '465';
export const ERR_NOOPERHOST = '491';
export const ERR_CANTKILLSERVER = '483';

// MONITOR (IRCv3 monitor).
export const RPL_MONONLINE = '730';
export const RPL_MONOFFLINE = '731';
export const RPL_MONLIST = '732';
export const RPL_ENDOFMONLIST = '733';
export const ERR_MONLISTFULL = '734';

// CHGHOST: the user's new displayed host, told to the user.
export const RPL_VISIBLEHOST = '396';
